#include "experiment/Tolerance.h"

#include <re2/re2.h>

namespace faultline::experiment {
namespace {

// The value a tolerance looks at: `target` (a key of the output), else the
// status of an http/process output for numeric forms, else the output.
const Json& subject(const Json& output, const Json& tolerance, bool numeric) {
  if (tolerance.is_object() && tolerance.contains("target") && output.is_object()) {
    const std::string target = tolerance["target"];
    if (output.contains(target)) return output[target];
  }
  if (numeric && output.is_object() && output.contains("status")) return output["status"];
  return output;
}

std::string text_of(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

bool in_range(const Json& value, const Json& range) {
  if (!value.is_number()) return false;
  const double v = value.get<double>();
  return v >= range[0].get<double>() && v <= range[1].get<double>();
}

bool is_range(const Json& t) { return t.is_array() && t.size() == 2 && t[0].is_number() && t[1].is_number(); }

void walk(const Json& node, const std::string& path, size_t at, std::vector<Json>& out);

// Reads the next step of a path at `at`; returns where the rest begins.
void step(const Json& node, const std::string& path, size_t at, std::vector<Json>& out) {
  if (at >= path.size()) {
    out.push_back(node);
    return;
  }
  walk(node, path, at, out);
}

void walk(const Json& node, const std::string& path, size_t at, std::vector<Json>& out) {
  if (path.compare(at, 2, "..") == 0) {
    // Recursive descent: the key below, at any depth.
    size_t end = at + 2;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    const std::string key = path.substr(at + 2, end - at - 2);
    std::vector<const Json*> stack{&node};
    while (!stack.empty()) {
      const Json* n = stack.back();
      stack.pop_back();
      if (n->is_object()) {
        if (n->contains(key)) step((*n)[key], path, end, out);
        for (const auto& [k, v] : n->items()) stack.push_back(&v);
      } else if (n->is_array()) {
        for (const auto& v : *n) stack.push_back(&v);
      }
    }
    return;
  }
  if (path[at] == '.') {
    size_t end = at + 1;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    const std::string key = path.substr(at + 1, end - at - 1);
    if (key == "*") {
      if (node.is_object())
        for (const auto& [k, v] : node.items()) step(v, path, end, out);
      if (node.is_array())
        for (const auto& v : node) step(v, path, end, out);
    } else if (node.is_object() && node.contains(key)) {
      step(node[key], path, end, out);
    }
    return;
  }
  if (path[at] == '[') {
    const size_t close = path.find(']', at);
    if (close == std::string::npos) throw ExperimentError("jsonpath \"" + path + "\": a [ without its ]");
    std::string inside = path.substr(at + 1, close - at - 1);
    if (inside == "*") {
      if (node.is_array())
        for (const auto& v : node) step(v, path, close + 1, out);
      if (node.is_object())
        for (const auto& [k, v] : node.items()) step(v, path, close + 1, out);
    } else if (!inside.empty() && (inside.front() == '\'' || inside.front() == '"')) {
      const std::string key = inside.substr(1, inside.size() - 2);
      if (node.is_object() && node.contains(key)) step(node[key], path, close + 1, out);
    } else {
      char* end = nullptr;
      const long index = std::strtol(inside.c_str(), &end, 10);
      if (inside.empty() || *end != '\0') throw ExperimentError("jsonpath \"" + path + "\": [" + inside + "] is not supported");
      if (node.is_array()) {
        const long n = static_cast<long>(node.size());
        const long i = index < 0 ? n + index : index;
        if (i >= 0 && i < n) step(node[static_cast<size_t>(i)], path, close + 1, out);
      }
    }
    return;
  }
  throw ExperimentError("jsonpath \"" + path + "\": unexpected \"" + path.substr(at, 1) + "\"");
}

}  // namespace

std::vector<Json> json_path(const Json& document, const std::string& path) {
  if (path.empty() || path[0] != '$') throw ExperimentError("jsonpath \"" + path + "\" must begin with $");
  std::vector<Json> out;
  step(document, path, 1, out);
  return out;
}

ToleranceResult check_tolerance(const Json& tolerance, const Json& output) {
  ToleranceResult r;
  if (tolerance.is_boolean() || tolerance.is_string()) {
    r.met = output == tolerance || (output.is_object() && output.contains("status") && tolerance.is_string() &&
                                    text_of(output["status"]) == tolerance.get<std::string>());
    if (!r.met) r.why = "expected " + tolerance.dump() + ", got " + output.dump();
    return r;
  }
  if (tolerance.is_number()) {
    const Json& v = subject(output, tolerance, true);
    r.met = v.is_number() && v.get<double>() == tolerance.get<double>();
    if (!r.met) r.why = "expected " + tolerance.dump() + ", got " + v.dump();
    return r;
  }
  if (is_range(tolerance)) {
    const Json& v = subject(output, tolerance, true);
    r.met = in_range(v, tolerance);
    if (!r.met) r.why = v.dump() + " is not within " + tolerance.dump();
    return r;
  }
  if (tolerance.is_array()) {
    const Json& v = subject(output, tolerance, true);
    for (const auto& allowed : tolerance)
      if (allowed == v) r.met = true;
    if (!r.met) r.why = v.dump() + " is not one of " + tolerance.dump();
    return r;
  }
  if (!tolerance.is_object() || !tolerance.contains("type") || !tolerance["type"].is_string())
    throw ExperimentError("tolerance " + tolerance.dump() + " is not a bool, number, string, list or {\"type\": ...}");
  const std::string type = tolerance["type"];
  const Json& v = subject(output, tolerance, false);
  if (type == "regex") {
    if (!tolerance.contains("pattern") || !tolerance["pattern"].is_string())
      throw ExperimentError("regex tolerance needs a \"pattern\"");
    // RE2: linear time and no recursion, whatever the pattern and the
    // output (std::regex overflows the stack on long inputs). It has no
    // backreferences or lookaround, which the error says.
    RE2::Options options;
    options.set_log_errors(false);
    const RE2 pattern(tolerance["pattern"].get<std::string>(), options);
    if (!pattern.ok())
      throw ExperimentError("regex tolerance: bad pattern " + tolerance["pattern"].dump() + ": " + pattern.error() +
                            " (RE2 syntax: no backreferences or lookaround)");
    r.met = RE2::PartialMatch(text_of(v), pattern);
    if (!r.met) r.why = "no match of " + tolerance["pattern"].dump() + " in " + text_of(v).substr(0, 200);
    return r;
  }
  if (type == "range") {
    if (!tolerance.contains("range") || !is_range(tolerance["range"]))
      throw ExperimentError("range tolerance needs \"range\": [low, high]");
    r.met = in_range(v, tolerance["range"]);
    if (!r.met) r.why = v.dump() + " is not within " + tolerance["range"].dump();
    return r;
  }
  if (type == "jsonpath") {
    if (!tolerance.contains("path") || !tolerance["path"].is_string())
      throw ExperimentError("jsonpath tolerance needs a \"path\"");
    Json doc = v;
    if (doc.is_string()) doc = Json::parse(doc.get<std::string>(), nullptr, false);
    const auto found = json_path(doc, tolerance["path"]);
    if (tolerance.contains("expect")) {
      const Json& expect = tolerance["expect"];
      r.met = !found.empty() && std::all_of(found.begin(), found.end(), [&](const Json& f) {
        return is_range(expect) ? in_range(f, expect) : expect.is_array() ? std::find(expect.begin(), expect.end(), f) != expect.end() : f == expect;
      });
    } else {
      r.met = !found.empty();
    }
    if (!r.met) r.why = "jsonpath " + tolerance["path"].dump() + " selected " + Json(found).dump();
    return r;
  }
  if (type == "probe") throw ExperimentError("a probe tolerance is run by the runner (run_probe_tolerance), not here");
  throw ExperimentError("tolerance type \"" + type + "\" is not supported (allowed: regex, range, jsonpath, probe)");
}

}  // namespace faultline::experiment
