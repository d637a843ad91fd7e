#include "experiment/Providers.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "experiment/Tolerance.h"

namespace faultline::experiment {

double ActivityContext::limit_s(double own_s) const {
  if (deadline == Clock::time_point::max()) return own_s;
  const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
  return std::max(0.001, std::min(own_s, left));
}

std::string api_url(const Json& values) {
  auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (values.contains("faultline_url")) return text(values["faultline_url"]);
  if (values.contains("toxiproxy_url")) return text(values["toxiproxy_url"]);
  if (values.contains("toxiproxy_host") || values.contains("toxiproxy_port")) {
    const std::string host = values.contains("toxiproxy_host") ? text(values["toxiproxy_host"]) : "localhost";
    const std::string port = values.contains("toxiproxy_port") ? text(values["toxiproxy_port"]) : "8474";
    return "http://" + host + ":" + port;
  }
  for (const char* name : {"FAULTLINE_URL", "TOXIPROXY_URL"})
    if (const char* url = std::getenv(name); url && *url) return url;
  return "http://localhost:8474";
}

void remember_proxy_port(const Json& proxy, Json& values) {
  const std::string listen = text_of(proxy, "listen");
  if (proxy.contains("name") && listen.find(':') != std::string::npos)
    values[text_of(proxy, "name") + "_PORT"] = listen.substr(listen.rfind(':') + 1);
}

Json run_provider(const Json& provider, ActivityContext& context) {
  const std::string type = text_of(provider, "type");
  if (type == "http") return run_http(provider, context);
  if (type == "process") return run_process(provider, context);
  if (type == "python") return run_toxiproxy_extension(provider, context);
  if (type == "faultline") return run_faultline(provider, context);
  throw ActivityFailed("unknown provider type \"" + type + "\"");
}

namespace {

bool answers_yes(const Json& output, const std::string& type) {
  if (output.is_boolean()) return output.get<bool>();
  if (output.is_number()) return output.get<double>() != 0;
  if (output.is_string()) return !output.get<std::string>().empty();
  if (output.is_object() && output.contains("status") && output["status"].is_number()) {
    const int status = output["status"].get<int>();
    return type == "process" ? status == 0 : status < 400;
  }
  return !output.is_null() && !output.empty();
}

}  // namespace

ToleranceResult within_tolerance(const Json& tolerance, const Json& output, ActivityContext& context) {
  if (!is_probe_tolerance(tolerance)) return check_tolerance(tolerance, output);
  if (!tolerance.contains("provider") || !tolerance["provider"].is_object())
    throw ExperimentError("a probe tolerance needs a \"provider\"");
  Json provider = tolerance["provider"];
  const std::string type = text_of(provider, "type");
  Json& arguments = provider["arguments"];
  if (type == "process") {
    if (arguments.is_string()) {  // the process provider splits a string at spaces
      std::istringstream words(arguments.get<std::string>());
      arguments = Json::array();
      for (std::string w; words >> w;) arguments.push_back(w);
    } else if (!arguments.is_array()) {
      arguments = Json::array();
    }
    arguments.push_back(output.is_string() ? output : Json(output.dump()));
  } else {
    if (!arguments.is_object()) arguments = Json::object();
    arguments["value"] = output;
  }
  ToleranceResult r;
  try {
    const Json answer = run_provider(provider, context);
    r.met = answers_yes(answer, type);
    if (!r.met) r.why = "the tolerance probe " + text_of(tolerance, "name", std::string("(unnamed)")) + " answered " + answer.dump().substr(0, 200);
  } catch (const ActivityFailed& e) {
    r.why = "the tolerance probe " + text_of(tolerance, "name", std::string("(unnamed)")) + " failed: " + e.what();
  }
  return r;
}

void check_provider(const Json& provider, const std::string& where) {
  const std::string type = text_of(provider, "type");
  if (type == "python") return check_python_provider(provider, where);
  if (type == "faultline") return check_faultline_provider(provider, where);
  if (type == "http" || type == "process") return;
  throw ExperimentError(where + ".type: unknown provider type \"" + type + "\" (allowed: http, process, python, faultline)");
}

}  // namespace faultline::experiment
