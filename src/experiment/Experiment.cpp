#include "experiment/Experiment.h"

#include <fstream>
#include <sstream>

#include "config/ConfigFile.h"
#include "config/YamlConfig.h"

namespace faultline::experiment {
namespace {

std::string where(const std::string& path) { return path.empty() ? "the experiment" : path; }

void fail(const std::string& origin, const std::string& path, const std::string& problem) {
  throw ExperimentError(origin + ": " + where(path) + ": " + problem);
}

void check_activity(const std::string& origin, const Json& a, const std::string& path) {
  if (!a.is_object()) fail(origin, path, "must be an object (an action or a probe)");
  if (!a.contains("type") || !a["type"].is_string() || (a["type"] != "action" && a["type"] != "probe"))
    fail(origin, path + ".type", "must be \"action\" or \"probe\"");
  if (!a.contains("name") || !a["name"].is_string() || a["name"].get<std::string>().empty())
    fail(origin, path + ".name", "is required (a non-empty string)");
  if (!a.contains("provider") || !a["provider"].is_object()) fail(origin, path + ".provider", "is required (an object)");
  const Json& p = a["provider"];
  if (!p.contains("type") || !p["type"].is_string()) fail(origin, path + ".provider.type", "is required (http, process, python or faultline)");
  const std::string type = p["type"];
  if (type == "http") {
    if (!p.contains("url") || !p["url"].is_string()) fail(origin, path + ".provider.url", "is required for an http provider");
  } else if (type == "process") {
    if (!p.contains("path") || !p["path"].is_string()) fail(origin, path + ".provider.path", "is required for a process provider");
  } else if (type == "python") {
    if (!p.contains("module") || !p["module"].is_string()) fail(origin, path + ".provider.module", "is required for a python provider");
    if (!p.contains("func") || !p["func"].is_string()) fail(origin, path + ".provider.func", "is required for a python provider");
  } else if (type == "faultline") {
    if (!p.contains("func") || !p["func"].is_string()) fail(origin, path + ".provider.func", "is required for a faultline provider");
  } else {
    fail(origin, path + ".provider.type", "\"" + type + "\" is not a provider (allowed: http, process, python, faultline)");
  }
  if (a.contains("timeout") && (!a["timeout"].is_number() || a["timeout"].get<double>() < 0))
    fail(origin, path + ".timeout", "must be a number of seconds, 0 or more");
  if (a.contains("background") && !a["background"].is_boolean()) fail(origin, path + ".background", "must be true or false");
  if (a.contains("pauses") && !a["pauses"].is_object()) fail(origin, path + ".pauses", "must be an object {before, after}");
}

// Activities may be `{"ref": "name"}`: the activity of that name defined earlier.
std::vector<Json> activities(const std::string& origin, const Json& list, const std::string& path, std::vector<Json>& known) {
  std::vector<Json> out;
  if (list.is_null()) return out;
  if (!list.is_array()) fail(origin, path, "must be a list of activities");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    const Json& a = list[i];
    if (a.is_object() && a.contains("ref")) {
      if (!a["ref"].is_string()) fail(origin, at + ".ref", "must be the name of an activity");
      const std::string name = a["ref"];
      auto it = std::find_if(known.begin(), known.end(), [&](const Json& k) { return text_of(k, "name") == name; });
      if (it == known.end()) fail(origin, at + ".ref", "no activity named \"" + name + "\" is defined before it");
      out.push_back(*it);
      continue;
    }
    check_activity(origin, a, at);
    known.push_back(a);
    out.push_back(a);
  }
  return out;
}

}  // namespace

static Experiment parse_document(const std::string& text, const std::string& origin, bool yaml) {
  Json doc;
  try {
    doc = yaml ? parse_yaml_config(text, origin) : Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw ExperimentError(origin + ": not valid JSON: " + e.what());
  } catch (const ConfigError& e) {
    throw ExperimentError(e.what());
  }
  if (!doc.is_object()) fail(origin, "", "must be an object with title, steady-state-hypothesis, method...");
  Experiment e;
  e.path = origin;
  e.document = doc;
  if (!doc.contains("title") || !doc["title"].is_string()) fail(origin, "title", "is required (a string)");
  e.title = doc["title"];
  if (doc.contains("configuration")) {
    if (!doc["configuration"].is_object()) fail(origin, "configuration", "must be an object");
    e.configuration = doc["configuration"];
  }
  if (doc.contains("secrets")) {
    if (!doc["secrets"].is_object()) fail(origin, "secrets", "must be an object");
    e.secrets = doc["secrets"];
  }
  std::vector<Json> known;
  if (doc.contains("steady-state-hypothesis")) {
    const Json& h = doc["steady-state-hypothesis"];
    if (!h.is_object()) fail(origin, "steady-state-hypothesis", "must be an object {title, probes}");
    e.hypothesis_title = text_of(h, "title");
    e.hypothesis = activities(origin, h.value("probes", Json::array()), "steady-state-hypothesis.probes", known);
    for (size_t i = 0; i < e.hypothesis.size(); ++i) {
      if (e.hypothesis[i]["type"] != "probe")
        fail(origin, "steady-state-hypothesis.probes[" + std::to_string(i) + "].type", "must be \"probe\"");
      if (!e.hypothesis[i].contains("tolerance"))
        fail(origin, "steady-state-hypothesis.probes[" + std::to_string(i) + "].tolerance", "is required in a hypothesis");
    }
  }
  if (!doc.contains("method")) fail(origin, "method", "is required (a list of activities)");
  e.method = activities(origin, doc["method"], "method", known);
  if (doc.contains("rollbacks")) e.rollbacks = activities(origin, doc["rollbacks"], "rollbacks", known);
  if (doc.contains("runtime")) {
    if (!doc["runtime"].is_object()) fail(origin, "runtime", "must be an object {rollbacks, hypothesis}");
    e.runtime = doc["runtime"];
  }
  return e;
}

Experiment parse_experiment(const std::string& text, const std::string& origin, bool yaml) {
  try {
    return parse_document(text, origin, yaml);
  } catch (const Json::exception& e) {
    // A field of an unexpected type that no check above names.
    throw ExperimentError(origin + ": a value has the wrong type: " + e.what());
  }
}

Experiment load_experiment(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ExperimentError(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  return parse_experiment(text.str(), path, yaml);
}

}  // namespace faultline::experiment
