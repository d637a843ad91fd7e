#include "experiment/Variables.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/ConfigFile.h"
#include "config/YamlConfig.h"

namespace faultline::experiment {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ExperimentError("--var-file " + path + ": cannot be read");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Json resolve_one(const Json& entry, const std::string& where) {
  if (!entry.is_object() || text_of(entry, "type") != "env") return entry;
  if (!entry.contains("key") || !entry["key"].is_string())
    throw ExperimentError(where + ".key: an env value needs the name of the environment variable");
  const std::string key = entry["key"];
  if (const char* value = std::getenv(key.c_str())) {
    const std::string type = text_of(entry, "env_var_type", "str");
    try {
      if (type == "int") return std::stoll(value);
      if (type == "float") return std::stod(value);
    } catch (const std::exception&) {
      throw ExperimentError(where + ": environment variable " + key + "=\"" + value + "\" is not a" +
                            (type == "int" ? "n int" : " float"));
    }
    return std::string(value);
  }
  if (entry.contains("default")) return entry["default"];
  throw ExperimentError(where + ": environment variable " + key + " is not set and there is no default");
}

}  // namespace

std::pair<std::string, Json> parse_var(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw ExperimentError("invalid --var \"" + text + "\" (allowed: key=value, key:int=N, key:float=X)");
  std::string key = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  std::string type = "str";
  if (const size_t colon = key.find(':'); colon != std::string::npos) {
    type = key.substr(colon + 1);
    key = key.substr(0, colon);
  }
  try {
    size_t used = 0;
    if (type == "int") {
      const long long v = std::stoll(value, &used);
      if (used == value.size()) return {key, v};
    } else if (type == "float") {
      const double v = std::stod(value, &used);
      if (used == value.size()) return {key, v};
    } else if (type == "bool") {
      if (value == "true" || value == "false") return {key, value == "true"};
    } else if (type == "str") {
      return {key, value};
    } else {
      throw ExperimentError("invalid --var \"" + text + "\": unknown type \"" + type + "\" (allowed: str, int, float, bool)");
    }
  } catch (const std::invalid_argument&) {
  } catch (const std::out_of_range&) {
  }
  throw ExperimentError("invalid --var \"" + text + "\": \"" + value + "\" is not a" + (type == "int" ? "n " : " ") + type);
}

Json read_var_file(const std::string& path) {
  const std::string text = read_text(path);
  if (path.ends_with(".env")) {
    Json out = Json::object();
    std::istringstream lines(text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      if (line.empty() || line[0] == '#') continue;
      const size_t eq = line.find('=');
      if (eq == std::string::npos) throw ExperimentError("--var-file " + path + ": line " + std::to_string(n) + " is not KEY=VALUE");
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
        value = value.substr(1, value.size() - 2);
      out[line.substr(0, eq)] = value;
    }
    return out;
  }
  Json doc;
  try {
    doc = path.ends_with(".yaml") || path.ends_with(".yml") ? parse_yaml_config(text, path) : Json::parse(text);
  } catch (const std::exception& e) {
    throw ExperimentError("--var-file " + path + ": " + e.what());
  }
  if (!doc.is_object()) throw ExperimentError("--var-file " + path + ": must hold an object of names and values");
  // The toolkit's var files may group values under "configuration"/"secrets".
  Json out = Json::object();
  for (const auto& [k, v] : doc.items()) {
    if ((k == "configuration" || k == "secrets") && v.is_object()) {
      for (const auto& [k2, v2] : v.items()) out[k2] = v2;
    } else {
      out[k] = v;
    }
  }
  return out;
}

Json resolve_values(const Experiment& e, const Json& overrides) {
  Json values = Json::object();
  for (const auto& [key, entry] : e.configuration.items()) {
    if (overrides.contains(key)) continue;
    values[key] = resolve_one(entry, "configuration." + key);
  }
  // Secrets are grouped by scope ({"scope": {"name": value}}); each name is usable as ${name}.
  for (const auto& [scope, group] : e.secrets.items()) {
    if (!group.is_object()) continue;
    for (const auto& [key, entry] : group.items())
      if (!overrides.contains(key)) values[key] = resolve_one(entry, "secrets." + scope + "." + key);
  }
  for (const auto& [key, value] : overrides.items()) values[key] = value;
  return values;
}

Json substitute(const Json& value, const Json& values) {
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : value.items()) out[k] = substitute(v, values);
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& v : value) out.push_back(substitute(v, values));
    return out;
  }
  if (!value.is_string()) return value;
  const std::string text = value.get<std::string>();
  if (text.size() > 3 && text.rfind("${", 0) == 0 && text.back() == '}' && text.find("${", 2) == std::string::npos) {
    const std::string name = text.substr(2, text.size() - 3);
    if (values.contains(name)) return values[name];
  }
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t open = text.find("${", i);
    if (open == std::string::npos) {
      out += text.substr(i);
      break;
    }
    const size_t close = text.find('}', open + 2);
    if (close == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    const std::string name = text.substr(open + 2, close - open - 2);
    if (values.contains(name)) {
      const Json& v = values[name];
      out += v.is_string() ? v.get<std::string>() : v.dump();
    } else {
      out += text.substr(open, close - open + 1);
    }
    i = close + 1;
  }
  return out;
}

}  // namespace faultline::experiment
