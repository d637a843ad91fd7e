// The Chaos Toolkit Toxiproxy extension's functions (chaostoxi.*), natively:
// same module and function names, same arguments and results, the same
// API calls, so experiments written for it run without Python.
#include <fmt/format.h>

#include <functional>
#include <map>

#include "cli/ApiClient.h"
#include "experiment/Providers.h"

namespace faultline::experiment {
namespace {

using Arguments = Json;
using Function = std::function<Json(const Arguments&, Json& values, cli::ApiClient& api)>;

std::string text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

const Json& need(const Arguments& a, const char* name) {
  if (!a.contains(name)) throw ActivityFailed(std::string("missing argument \"") + name + "\"");
  return a[name];
}

// The extension reads "env:NAME" values from the environment.
std::string from_environment(const Json& v) {
  const std::string s = text(v);
  if (s.rfind("env:", 0) == 0) {
    const char* value = std::getenv(s.substr(4).c_str());
    if (!value) throw ActivityFailed("environment variable " + s.substr(4) + " is not set");
    return value;
  }
  return s;
}

Json modify(cli::ApiClient& api, const std::string& proxy, const Json& body, Json& values) {
  const Json result = Json::parse(api.post("/proxies/" + cli::path_segment(proxy), body.dump()));
  remember_proxy_port(result, values);
  return true;
}

Json create_toxic(cli::ApiClient& api, const Arguments& a, const std::string& type, Json attributes) {
  const std::string proxy = text(need(a, "for_proxy")), name = text(need(a, "toxic_name"));
  Json body = {{"name", name},
               {"type", type},
               {"stream", a.value("stream", std::string("downstream"))},
               {"toxicity", a.value("toxicity", 1.0)},
               {"attributes", attributes}};
  const Json toxic = Json::parse(api.post("/proxies/" + cli::path_segment(proxy) + "/toxics", body.dump()));
  return text_of(toxic, "name") == name;
}

const std::map<std::string, Function>& functions() {
  static const std::map<std::string, Function> table = {
      {"chaostoxi.proxy.actions.create_proxy",
       [](const Arguments& a, Json& values, cli::ApiClient& api) -> Json {
         const std::string listen = text(a.value("listen_host", Json("0.0.0.0"))) + ":" + text(a.value("listen_port", Json(0)));
         const Json body = {{"name", text(need(a, "proxy_name"))},
                            {"listen", listen},
                            {"upstream", from_environment(need(a, "upstream_host")) + ":" + from_environment(need(a, "upstream_port"))},
                            {"enabled", a.value("enabled", true)}};
         remember_proxy_port(Json::parse(api.post("/proxies", body.dump())), values);
         return true;
       }},
      {"chaostoxi.proxy.actions.modify_proxy",
       [](const Arguments& a, Json& values, cli::ApiClient& api) -> Json {
         Json body = Json::object();
         if (a.contains("listen_address") && !a["listen_address"].is_null()) body["listen"] = a["listen_address"];
         if (a.contains("upstream_address") && !a["upstream_address"].is_null()) body["upstream"] = a["upstream_address"];
         if (a.contains("enabled") && !a["enabled"].is_null()) body["enabled"] = a["enabled"];
         return modify(api, text(need(a, "proxy_name")), body, values);
       }},
      {"chaostoxi.proxy.actions.disable_proxy",
       [](const Arguments& a, Json& values, cli::ApiClient& api) -> Json {
         return modify(api, text(need(a, "proxy_name")), {{"enabled", false}}, values);
       }},
      {"chaostoxi.proxy.actions.enable_proxy",
       [](const Arguments& a, Json& values, cli::ApiClient& api) -> Json {
         return modify(api, text(need(a, "proxy_name")), {{"enabled", true}}, values);
       }},
      {"chaostoxi.proxy.actions.delete_proxy",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         try {
           api.remove("/proxies/" + cli::path_segment(text(need(a, "proxy_name"))));
         } catch (const cli::ApiError&) {
           // The extension only warns when the proxy was not there.
         }
         return nullptr;
       }},
      {"chaostoxi.proxy.actions.reset",
       [](const Arguments&, Json&, cli::ApiClient& api) -> Json {
         api.post("/reset", "");
         return true;
       }},
      {"chaostoxi.proxy.probes.proxy_exist",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         try {
           const std::string name = text(need(a, "proxy_name"));
           return Json::parse(api.get("/proxies/" + cli::path_segment(name))).value("name", "") == name;
         } catch (const cli::ApiError&) {
           return false;
         }
       }},
      {"chaostoxi.proxy.probes.get_proxy_attribute",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         try {
           const Json proxy = Json::parse(api.get("/proxies/" + cli::path_segment(text(need(a, "proxy_name")))));
           const std::string attribute = text(need(a, "attribute"));
           if (!proxy.contains(attribute)) throw ActivityFailed("a proxy has no attribute \"" + attribute + "\"");
           return proxy[attribute];
         } catch (const cli::ApiError&) {
           return nullptr;
         }
       }},
      {"chaostoxi.toxic.actions.create_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, text(need(a, "toxic_type")), a.value("attributes", Json::object()));
       }},
      {"chaostoxi.toxic.actions.create_latency_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, "latency", {{"latency", need(a, "latency")}, {"jitter", a.value("jitter", Json(0))}});
       }},
      {"chaostoxi.toxic.actions.create_bandwith_degradation_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, "bandwidth", {{"rate", need(a, "rate")}});
       }},
      {"chaostoxi.toxic.actions.create_slow_connection_close_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, "slow_close", {{"delay", need(a, "delay")}});
       }},
      {"chaostoxi.toxic.actions.create_timeout_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, "timeout", {{"timeout", need(a, "timeout")}});
       }},
      {"chaostoxi.toxic.actions.create_slicer_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, "slicer",
                             {{"average_size", need(a, "average_size")}, {"size_variation", need(a, "size_variation")}, {"delay", need(a, "delay")}});
       }},
      {"chaostoxi.toxic.actions.create_limiter_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         return create_toxic(api, a, "limit_data", {{"bytes", need(a, "bytes_limit")}});
       }},
      {"chaostoxi.toxic.actions.delete_toxic",
       [](const Arguments& a, Json&, cli::ApiClient& api) -> Json {
         try {
           api.remove("/proxies/" + cli::path_segment(text(need(a, "for_proxy"))) + "/toxics/" +
                      cli::path_segment(text(need(a, "toxic_name"))));
           return true;
         } catch (const cli::ApiError&) {
           return false;  // the extension returns whether the DELETE was ok
         }
       }},
  };
  return table;
}

std::string supported() {
  std::string names;
  for (const auto& [name, f] : functions()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

}  // namespace

void check_python_provider(const Json& p, const std::string& where) {
  const std::string key = text_of(p, "module") + "." + text_of(p, "func");
  if (!functions().count(key))
    throw ExperimentError(where + ": python function " + key +
                          " is not available (faultline runs the Toxiproxy extension natively: " + supported() + ")");
}

Json run_toxiproxy_extension(const Json& p, ActivityContext& context) {
  Json& values = context.values;
  const std::string key = text_of(p, "module") + "." + text_of(p, "func");
  auto it = functions().find(key);
  if (it == functions().end()) throw ActivityFailed("python function " + key + " is not available");
  try {
    cli::ApiClient api(api_url(values));
    return it->second(p.value("arguments", Json::object()), values, api);
  } catch (const cli::ApiError& e) {
    throw ActivityFailed(key + ": " + e.what());
  } catch (const cli::UnreachableError& e) {
    throw ActivityFailed(key + ": cannot reach " + api_url(values) + ": " + e.what());
  } catch (const Json::exception& e) {
    throw ActivityFailed(key + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw ActivityFailed(key + ": " + e.what());
  }
}

}  // namespace faultline::experiment
