#pragma once
// A Chaos Toolkit experiment, as read from its JSON or YAML file: the
// document itself (activities stay JSON: providers are open-ended), with
// `ref`s resolved and the structure checked, every problem named by its
// path in the document ("method[2].provider.url").
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace faultline::experiment {

using Json = nlohmann::ordered_json;

// A member that should be a string, or `fallback` when it is missing or of
// another type (Json::value would throw on the latter; the checks that
// name a mistyped field are elsewhere).
inline std::string text_of(const Json& object, const char* key, const std::string& fallback = "") {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

class ExperimentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Experiment {
  std::string path;            // the file
  Json document;               // as read (for the journal)
  std::string title;
  std::string hypothesis_title;
  std::vector<Json> hypothesis;  // probes
  std::vector<Json> method;      // actions and probes, `ref`s replaced by what they name
  std::vector<Json> rollbacks;
  Json configuration = Json::object();
  Json secrets = Json::object();
  Json runtime = Json::object();  // {"rollbacks": {"strategy"}, "hypothesis": {"strategy", "frequency", "fail_fast"}}
};

// Reads and checks a file (.json, .yaml, .yml); throws ExperimentError.
Experiment load_experiment(const std::string& path);
// The same from text (`origin` names it in errors).
Experiment parse_experiment(const std::string& text, const std::string& origin, bool yaml);

}  // namespace faultline::experiment
