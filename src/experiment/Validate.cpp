#include "experiment/Validate.h"

#include <algorithm>

#include "experiment/Providers.h"
#include "experiment/Runner.h"
#include "experiment/Tolerance.h"
#include "experiment/Variables.h"

namespace faultline::experiment {
namespace {

// Every ${name} in the strings of `value`.
void names_in(const Json& value, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [k, v] : value.items()) names_in(v, out);
  } else if (value.is_array()) {
    for (const auto& v : value) names_in(v, out);
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    for (size_t open = text.find("${"); open != std::string::npos; open = text.find("${", open + 2)) {
      const size_t close = text.find('}', open + 2);
      if (close == std::string::npos) break;
      if (close > open + 2) out.push_back(text.substr(open + 2, close - open - 2));
    }
  }
}

using Keys = std::vector<const char*>;

// A key the toolkit's format does not have is most often a typo
// ("tolerence", "pauses.befor"), which would silently do nothing.
void unknown_keys(const Json& object, const Keys& allowed, const std::string& at, std::vector<std::string>& problems) {
  if (!object.is_object()) return;
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; }) != allowed.end()) continue;
    std::string list;
    for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
    problems.push_back(at + (at.ends_with(": ") ? "" : ".") + key + ": unknown key (allowed: " + list + ")");
  }
}

Keys provider_keys(const std::string& type) {
  if (type == "http") return {"type", "url", "method", "headers", "arguments", "timeout", "expected_status", "verify_tls", "secrets"};
  if (type == "process") return {"type", "path", "arguments", "timeout", "secrets"};
  if (type == "python") return {"type", "module", "func", "arguments", "secrets"};
  return {"type", "func", "arguments", "secrets"};
}

void check_provider_of(const Json& provider, const std::string& at, std::vector<std::string>& problems) {
  unknown_keys(provider, provider_keys(text_of(provider, "type")), at, problems);
  try {
    check_provider(provider, at);
  } catch (const ExperimentError& e) {
    problems.push_back(e.what());
  }
}

void check_list(const std::vector<Json>& list, const std::string& where, const Json& values, std::vector<std::string>& problems) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const Json& a = list[i];
    unknown_keys(a,
                 {"type", "name", "provider", "pauses", "background", "tolerance", "timeout", "controls", "secrets", "configuration",
                  "description", "ref"},
                 at, problems);
    unknown_keys(a.value("pauses", Json::object()), {"before", "after"}, at + ".pauses", problems);
    check_provider_of(a["provider"], at + ".provider", problems);
    if (is_probe_tolerance(a.value("tolerance", Json()))) {
      check_provider_of(a["tolerance"].value("provider", Json::object()), at + ".tolerance.provider", problems);
      continue;
    }
    std::vector<std::string> names;
    names_in(a, names);
    for (const auto& name : names)
      // NAME_PORT is set while the run goes, by the extension's proxy actions.
      if (!values.contains(name) && !name.ends_with("_PORT"))
        problems.push_back(at + ": ${" + name + "} is not defined (not in configuration, secrets or --var)");
    if (a.contains("tolerance")) {
      try {
        check_tolerance(substitute(a["tolerance"], values), Json());
      } catch (const ExperimentError& e) {
        problems.push_back(at + ".tolerance: " + e.what());
      }
    }
  }
}

std::vector<std::string> validate_document(const std::string& path, const Json& overrides) {
  std::vector<std::string> problems;
  Experiment e;
  try {
    e = load_experiment(path);
  } catch (const ExperimentError& error) {
    return {error.what()};
  }
  Json values = Json::object();
  try {
    values = resolve_values(e, overrides);
  } catch (const ExperimentError& error) {
    problems.push_back(path + ": " + error.what());
  }
  unknown_keys(e.document,
               {"version", "title", "description", "tags", "contributions", "configuration", "secrets", "extensions", "controls",
                "steady-state-hypothesis", "method", "rollbacks", "runtime"},
               path + ": ", problems);
  unknown_keys(e.document.value("steady-state-hypothesis", Json::object()), {"title", "probes", "controls"},
               path + ": steady-state-hypothesis", problems);
  unknown_keys(e.runtime, {"rollbacks", "hypothesis"}, path + ": runtime", problems);
  unknown_keys(e.runtime.value("rollbacks", Json::object()), {"strategy"}, path + ": runtime.rollbacks", problems);
  unknown_keys(e.runtime.value("hypothesis", Json::object()), {"strategy", "frequency", "fail_fast"}, path + ": runtime.hypothesis",
               problems);
  try {
    RunOptions options;
    options.overrides = overrides;
    check_runtime(e, options);
  } catch (const ExperimentError& error) {
    problems.push_back(error.what());
  }
  check_list(e.hypothesis, path + ": steady-state-hypothesis.probes", values, problems);
  check_list(e.method, path + ": method", values, problems);
  check_list(e.rollbacks, path + ": rollbacks", values, problems);
  return problems;
}

}  // namespace

std::vector<std::string> validate_experiment(const std::string& path, const Json& overrides) {
  try {
    return validate_document(path, overrides);
  } catch (const Json::exception& e) {
    return {path + ": a value has the wrong type: " + e.what()};
  }
}

}  // namespace faultline::experiment
