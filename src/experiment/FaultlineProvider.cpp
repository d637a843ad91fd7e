// The `faultline` provider: this project's own actions and probes, so an
// experiment can use what the Toxiproxy extension cannot reach (schedules,
// timed toxics, stats), measure a client's view with `load`, and wait for a
// condition with `wait_for`.
//
//   provider: {type: faultline, func: add_toxic, arguments: {proxy: redis, type: latency, ...}}
//
// Every function names its arguments; an unknown function or argument is an
// error before anything runs (check_faultline_provider).
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "cli/ApiClient.h"
#include "experiment/Providers.h"
#include "experiment/Tolerance.h"
#include "load/LoadReport.h"
#include "load/LoadSettings.h"

namespace faultline::experiment {
namespace {

using Call = std::function<Json(const Json& arguments, ActivityContext& context, cli::ApiClient& api)>;

struct Function {
  std::vector<std::string> required;
  std::vector<std::string> optional;  // "*": any other key goes into the request body
  Call call;
};

std::string text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }
std::string segment(const Json& arguments, const char* key) { return cli::path_segment(text(arguments.at(key))); }

// The arguments without the ones that name the target (they are in the path).
Json body_without(Json arguments, std::initializer_list<const char*> keys) {
  for (const char* key : keys) arguments.erase(key);
  return arguments;
}

Json parsed(const std::string& body) {
  if (body.empty()) return true;
  Json j = Json::parse(body, nullptr, false);
  return j.is_discarded() ? Json(body) : j;
}

Json remember_port(Json proxy, Json& values) {
  remember_proxy_port(proxy, values);
  return proxy;
}

// ---- load ----------------------------------------------------------------

std::string argument_name(const char* field) {
  const std::string f = field;
  return "arguments." + (f == "header" ? std::string("headers") : f);
}

// Durations in experiments are seconds when they are numbers (as the
// toolkit's pauses and timeouts), or texts such as "500ms".
std::string duration_text(const Json& v, const std::string& key) {
  if (v.is_number()) return fmt::format("{}s", v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  throw ActivityFailed(fmt::format("arguments.{}: {} is not a duration (a number of seconds, or a text as \"500ms\")", key, v.dump()));
}

template <typename T>
T whole(const Json& v, const std::string& key) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    throw ActivityFailed(fmt::format("arguments.{}: {} is not a whole number", key, v.dump()));
  return v.get<T>();
}

bool flag(const Json& v, const std::string& key) {
  if (!v.is_boolean()) throw ActivityFailed(fmt::format("arguments.{}: {} is not true or false", key, v.dump()));
  return v.get<bool>();
}

bool names_an_api(const Json& values) {
  return values.contains("faultline_url") || values.contains("toxiproxy_url") || values.contains("toxiproxy_host") ||
         values.contains("toxiproxy_port");
}

load::LoadSettings load_settings(const Json& a, const Json& values) {
  load::LoadSettings s;
  for (const auto& [key, v] : a.items()) {
    if (key == "targets" || key == "target") {
      if (v.is_string()) s.targets.push_back(v.get<std::string>());
      else if (v.is_array())
        for (const auto& t : v) s.targets.push_back(text(t));
      else throw ActivityFailed("arguments." + key + ": a URL or a list of URLs");
    } else if (key == "duration") s.duration = duration_text(v, key);
    else if (key == "warmup") s.warmup = duration_text(v, key);
    else if (key == "timeout") s.timeout = duration_text(v, key);
    else if (key == "interval") s.interval = duration_text(v, key);
    else if (key == "rate") s.rate = v.is_number() ? fmt::format("{}/s", v.get<double>()) : text(v);
    else if (key == "concurrency") s.concurrency = whole<size_t>(v, key);
    else if (key == "connections") s.connections = whole<size_t>(v, key);
    else if (key == "threads") s.threads = whole<size_t>(v, key);
    else if (key == "payload") s.payload = whole<size_t>(v, key);
    else if (key == "keys") s.keys = whole<uint64_t>(v, key);
    else if (key == "seed") s.seed = whole<uint64_t>(v, key);
    else if (key == "expect_status") s.expect_status = whole<int>(v, key);
    else if (key == "new_connections") s.new_connections = flag(v, key);
    else if (key == "pipeline") s.pipeline = whole<size_t>(v, key);
    else if (key == "check_targets") s.check_targets = flag(v, key);
    else if (key == "method") s.method = text(v);
    else if (key == "body") s.body = text(v);
    else if (key == "mix") s.mix = text(v);
    else if (key == "headers") {
      if (v.is_object())
        for (const auto& [name, value] : v.items()) s.headers.push_back(name + ": " + text(value));
      else if (v.is_array())
        for (const auto& h : v) s.headers.push_back(text(h));
      else throw ActivityFailed("arguments.headers: an object {name: value} or a list of \"Name: value\"");
    } else if (key == "events") {
      if (v.is_string()) s.events = v.get<std::string>();
      else if (flag(v, key)) s.events = api_url(values);
    }
  }
  // Faults are measured against the API the experiment talks to, unless told otherwise.
  if (!a.contains("events") && names_an_api(values)) s.events = api_url(values);
  return s;
}

// The figures a tolerance most often tests, at the top of the output: the
// worst target's percentiles and error rate, and the slowest recovery.
void add_headline(Json& out) {
  double p50 = 0, p99 = 0, p999 = 0, errors = 0, throughput = 0;
  for (const auto& t : out["targets"]) {
    p50 = std::max(p50, t.value("p50_ms", 0.0));
    p99 = std::max(p99, t.value("p99_ms", 0.0));
    p999 = std::max(p999, t.value("p999_ms", 0.0));
    errors = std::max(errors, t.value("error_rate", 0.0));
    throughput += t.value("throughput_per_s", 0.0);
  }
  Json recovery = nullptr;
  bool recovered = true;
  for (const auto& f : out["faults"]) {
    if (f["time_to_recovery_ms"].is_null()) recovered = false;
    else if (recovery.is_null() || f["time_to_recovery_ms"].get<double>() > recovery.get<double>()) recovery = f["time_to_recovery_ms"];
  }
  out["p50_ms"] = p50;
  out["p99_ms"] = p99;
  out["p999_ms"] = p999;
  out["error_rate"] = errors;
  out["throughput_per_s"] = throughput;
  out["fault_count"] = out["faults"].size();
  out["recovered"] = recovered;
  out["time_to_recovery_ms"] = recovered ? recovery : Json();
}

// `slo`: limits on the headline figures, judged together so that one
// tolerance ({"type": "jsonpath", "path": "$.slo.met", "expect": true})
// tests them all on the same run. Maximums, except throughput (a minimum).
void judge_slo(const Json& slo, Json& out) {
  Json failures = Json::array();
  for (const auto& [key, limit] : slo.items()) {
    const Json& value = out[key];
    const bool at_least = key == "throughput_per_s";
    // No fault in the run: nothing had to recover.
    const bool nothing_to_recover = key == "time_to_recovery_ms" && out["fault_count"] == 0;
    const bool ok = nothing_to_recover || (value.is_number() && (at_least ? value.get<double>() >= limit.get<double>()
                                                                          : value.get<double>() <= limit.get<double>()));
    if (!ok) failures.push_back(fmt::format("{} {} {} {}", key, value.dump(), at_least ? "<" : ">", limit.dump()));
  }
  out["slo"] = {{"met", failures.empty()}, {"limits", slo}, {"failures", failures}};
}

void check_slo(const Json& slo) {
  if (!slo.is_object()) throw ActivityFailed("arguments.slo: an object of limits, as {\"p99_ms\": 250, \"error_rate\": 0.001}");
  for (const auto& [key, limit] : slo.items()) {
    if (key != "p50_ms" && key != "p99_ms" && key != "p999_ms" && key != "error_rate" && key != "time_to_recovery_ms" &&
        key != "throughput_per_s")
      throw ActivityFailed("arguments.slo." + key +
                           ": not a figure (allowed: p50_ms, p99_ms, p999_ms, error_rate, time_to_recovery_ms, throughput_per_s)");
    if (!limit.is_number()) throw ActivityFailed("arguments.slo." + key + ": " + limit.dump() + " is not a number");
  }
}

Json run_load_function(const Json& a, ActivityContext& context) {
  const Json slo = a.contains("slo") ? a["slo"] : Json();
  if (!slo.is_null()) check_slo(slo);
  load::LoadOptions options;
  try {
    options = load::to_load_options(load_settings(a, context.values), argument_name);
  } catch (const std::invalid_argument& e) {
    throw ActivityFailed(e.what());
  }
  options.live = false;
  load::LoadResult result;
  try {
    result = load::run_load(options, [&context] { return context.stop(); });
  } catch (const std::exception& e) {
    throw ActivityFailed(std::string("load: ") + e.what());
  }
  if (context.cancelled()) throw ActivityFailed("load: the run was interrupted");
  if (result.interrupted) throw ActivityFailed("load: did not finish within the activity's timeout");
  Json out = Json::parse(load::result_json(result).dump());
  add_headline(out);
  if (!slo.is_null()) judge_slo(slo, out);
  return out;
}

// ---- wait_for ----------------------------------------------------------

Json run_wait_for(const Json& a, ActivityContext& context) {
  const Json& probe = a.at("probe");
  const Json provider = probe.contains("provider") ? probe["provider"] : probe;
  const Json tolerance = a.contains("tolerance") ? a["tolerance"] : probe.value("tolerance", Json());
  if (tolerance.is_null()) throw ActivityFailed("wait_for: no tolerance (arguments.tolerance or arguments.probe.tolerance)");
  const double timeout_s = context.limit_s(a.contains("timeout") ? a["timeout"].get<double>() : 30.0);
  const auto interval = std::chrono::duration<double>(a.contains("interval") ? a["interval"].get<double>() : 0.5);
  const auto start = ActivityContext::Clock::now();
  const auto until = start + std::chrono::duration_cast<ActivityContext::Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string last = "it was not run";
  for (int attempts = 1;; ++attempts) {
    ActivityContext inner{context.values, context.interrupted, until, context.halted};
    try {
      const Json output = run_provider(provider, inner);
      const ToleranceResult r = within_tolerance(tolerance, output, inner);
      if (r.met)
        return {{"met", true},
                {"attempts", attempts},
                {"elapsed_s", std::chrono::duration<double>(ActivityContext::Clock::now() - start).count()},
                {"output", output}};
      last = r.why;
    } catch (const ActivityFailed& e) {
      last = std::string("the probe failed: ") + e.what();
    } catch (const ExperimentError& e) {
      throw ActivityFailed(std::string("wait_for: ") + e.what());
    }
    const auto next = ActivityContext::Clock::now() + std::chrono::duration_cast<ActivityContext::Clock::duration>(interval);
    while (ActivityContext::Clock::now() < next && ActivityContext::Clock::now() < until && !context.cancelled())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (context.cancelled()) throw ActivityFailed("wait_for: the run was interrupted");
    if (ActivityContext::Clock::now() >= until)
      throw ActivityFailed(fmt::format("wait_for: not within tolerance after {} s ({} attempts); last: {}", timeout_s, attempts, last));
  }
}

// Polls a schedule until it is over (finished or cancelled).
Json run_wait_schedule(const Json& a, ActivityContext& context, cli::ApiClient& api) {
  const double timeout_s = context.limit_s(a.contains("timeout") ? a["timeout"].get<double>() : 300.0);
  const auto until = ActivityContext::Clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const Json schedule = parsed(api.get("/faultline/schedules/" + segment(a, "schedule")));
    const std::string state = text_of(schedule, "state");
    if (state == "finished" || state == "cancelled") return schedule;
    if (context.cancelled()) throw ActivityFailed("wait_schedule: the run was interrupted");
    if (ActivityContext::Clock::now() >= until)
      throw ActivityFailed(fmt::format("wait_schedule: {} is still {} after {} s", text(a["schedule"]), state, timeout_s));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

const std::map<std::string, Function>& functions() {
  static const std::map<std::string, Function> table = {
      {"list_proxies", {{}, {}, [](const Json&, ActivityContext&, cli::ApiClient& api) { return parsed(api.get("/proxies")); }}},
      {"get_proxy",
       {{"proxy"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) { return parsed(api.get("/proxies/" + segment(a, "proxy"))); }}},
      {"create_proxy",
       {{"name", "upstream"},
        {"listen", "enabled"},
        [](const Json& a, ActivityContext& c, cli::ApiClient& api) {
          Json body = a;
          if (!body.contains("listen")) body["listen"] = "127.0.0.1:0";
          return remember_port(parsed(api.post("/proxies", body.dump())), c.values);
        }}},
      {"update_proxy",
       {{"proxy"},
        {"listen", "upstream", "enabled"},
        [](const Json& a, ActivityContext& c, cli::ApiClient& api) {
          return remember_port(parsed(api.post("/proxies/" + segment(a, "proxy"), body_without(a, {"proxy"}).dump())), c.values);
        }}},
      {"enable_proxy",
       {{"proxy"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.post("/proxies/" + segment(a, "proxy"), R"({"enabled":true})"));
        }}},
      {"disable_proxy",
       {{"proxy"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.post("/proxies/" + segment(a, "proxy"), R"({"enabled":false})"));
        }}},
      {"delete_proxy",
       {{"proxy"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) { return parsed(api.remove("/proxies/" + segment(a, "proxy"))); }}},
      {"reset", {{}, {}, [](const Json&, ActivityContext&, cli::ApiClient& api) { return parsed(api.post("/reset", "")); }}},
      {"populate",
       {{"proxies"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) { return parsed(api.post("/populate", a["proxies"].dump())); }}},
      {"list_toxics",
       {{"proxy"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.get("/proxies/" + segment(a, "proxy") + "/toxics"));
        }}},
      {"add_toxic",
       {{"proxy", "type"},
        {"name", "stream", "toxicity", "attributes", "duration_ms"},
        [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.post("/proxies/" + segment(a, "proxy") + "/toxics", body_without(a, {"proxy"}).dump()));
        }}},
      {"update_toxic",
       {{"proxy", "toxic"},
        {"stream", "toxicity", "attributes", "duration_ms"},
        [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.post("/proxies/" + segment(a, "proxy") + "/toxics/" + segment(a, "toxic"),
                                 body_without(a, {"proxy", "toxic"}).dump()));
        }}},
      {"remove_toxic",
       {{"proxy", "toxic"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.remove("/proxies/" + segment(a, "proxy") + "/toxics/" + segment(a, "toxic")));
        }}},
      {"start_schedule",
       {{"proxy", "kind"}, {"*"}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.post("/faultline/schedules", a.dump()));
        }}},
      {"list_schedules", {{}, {}, [](const Json&, ActivityContext&, cli::ApiClient& api) { return parsed(api.get("/faultline/schedules")); }}},
      {"get_schedule",
       {{"schedule"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.get("/faultline/schedules/" + segment(a, "schedule")));
        }}},
      {"cancel_schedule",
       {{"schedule"}, {}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          return parsed(api.remove("/faultline/schedules/" + segment(a, "schedule")));
        }}},
      {"wait_schedule", {{"schedule"}, {"timeout"}, run_wait_schedule}},
      {"stats", {{}, {}, [](const Json&, ActivityContext&, cli::ApiClient& api) { return parsed(api.get("/faultline/stats")); }}},
      {"request",
       {{"method", "path"}, {"body"}, [](const Json& a, ActivityContext&, cli::ApiClient& api) {
          const Json body = a.value("body", Json());
          return parsed(api.send(text(a["method"]), text(a["path"]), body.is_null() ? "" : (body.is_string() ? body.get<std::string>() : body.dump())));
        }}},
      {"load",
       {{},
        {"targets", "target", "duration", "warmup", "timeout", "interval", "rate", "concurrency", "connections", "threads",
         "payload", "keys", "seed", "expect_status", "new_connections", "pipeline", "check_targets", "method", "body", "mix", "headers",
         "events", "slo"},
        [](const Json& a, ActivityContext& c, cli::ApiClient&) { return run_load_function(a, c); }}},
      {"wait_for",
       {{"probe"}, {"tolerance", "timeout", "interval"}, [](const Json& a, ActivityContext& c, cli::ApiClient&) { return run_wait_for(a, c); }}},
  };
  return table;
}

std::string function_names() {
  std::string names;
  for (const auto& [name, f] : functions()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

}  // namespace

void check_faultline_provider(const Json& p, const std::string& where) {
  const std::string name = text_of(p, "func");
  const auto it = functions().find(name);
  if (it == functions().end())
    throw ExperimentError(fmt::format("{}.func: faultline has no function \"{}\" (allowed: {})", where, name, function_names()));
  const Json arguments = p.value("arguments", Json::object());
  if (!arguments.is_object()) throw ExperimentError(where + ".arguments: must be an object");
  const Function& f = it->second;
  for (const auto& required : f.required)
    if (!arguments.contains(required)) throw ExperimentError(fmt::format("{}.arguments.{}: required by {}", where, required, name));
  if (name == "load" && !arguments.contains("targets") && !arguments.contains("target"))
    throw ExperimentError(where + ".arguments.targets: required by load (one or more target URLs)");
  const bool any = std::find(f.optional.begin(), f.optional.end(), "*") != f.optional.end();
  for (const auto& [key, value] : arguments.items()) {
    const bool known = std::find(f.required.begin(), f.required.end(), key) != f.required.end() ||
                       std::find(f.optional.begin(), f.optional.end(), key) != f.optional.end();
    if (!known && !any) {
      std::string allowed;
      for (const auto* list : {&f.required, &f.optional})
        for (const auto& k : *list) allowed += (allowed.empty() ? "" : ", ") + k;
      throw ExperimentError(fmt::format("{}.arguments.{}: {} takes no such argument (allowed: {})", where, key, name,
                                        allowed.empty() ? "none" : allowed));
    }
  }
  if (name == "wait_for") {
    const Json& probe = arguments["probe"];
    if (!probe.is_object()) throw ExperimentError(where + ".arguments.probe: must be a probe or a provider object");
    check_provider(probe.contains("provider") ? probe["provider"] : probe,
                   where + ".arguments.probe" + (probe.contains("provider") ? ".provider" : ""));
  }
}

Json run_faultline(const Json& p, ActivityContext& context) {
  const std::string name = text_of(p, "func");
  const auto it = functions().find(name);
  if (it == functions().end()) throw ActivityFailed("faultline has no function \"" + name + "\"");
  const std::string url = api_url(context.values);
  try {
    cli::ApiClient api(url);
    return it->second.call(p.value("arguments", Json::object()), context, api);
  } catch (const cli::ApiError& e) {
    throw ActivityFailed(name + ": " + e.what());
  } catch (const cli::UnreachableError& e) {
    throw ActivityFailed(name + ": cannot reach " + url + ": " + e.what());
  } catch (const Json::exception& e) {
    throw ActivityFailed(name + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw ActivityFailed(name + ": " + e.what());
  }
}

}  // namespace faultline::experiment
