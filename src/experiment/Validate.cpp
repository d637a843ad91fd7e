#include "experiment/Validate.h"

#include <regex>

#include "experiment/Providers.h"
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
    static const std::regex reference(R"(\$\{([^}]+)\})");
    const std::string text = value.get<std::string>();
    for (std::sregex_iterator it(text.begin(), text.end(), reference), end; it != end; ++it) out.push_back((*it)[1]);
  }
}

void check_list(const std::vector<Json>& list, const std::string& where, const Json& values, std::vector<std::string>& problems) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const Json& a = list[i];
    if (a["provider"].value("type", "") == "python") {
      try {
        check_python_provider(a["provider"], at + ".provider");
      } catch (const ExperimentError& e) {
        problems.push_back(e.what());
      }
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

}  // namespace

std::vector<std::string> validate_experiment(const std::string& path, const Json& overrides) {
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
  check_list(e.hypothesis, path + ": steady-state-hypothesis.probes", values, problems);
  check_list(e.method, path + ": method", values, problems);
  check_list(e.rollbacks, path + ": rollbacks", values, problems);
  return problems;
}

}  // namespace faultline::experiment
