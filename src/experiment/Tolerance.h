#pragma once
// Whether a probe's output is within its tolerance, with the Chaos
// Toolkit's rules: an exact bool, number or string; a list of two numbers
// is an inclusive range, any other list a set of allowed values; an object
// {"type": "regex"|"range"|"jsonpath", ..., "target": key}. When the output
// has a "status" (http, process) and the tolerance is a number, a range or
// a list, the status is what is compared.
#include <string>

#include "experiment/Experiment.h"

namespace faultline::experiment {

struct ToleranceResult {
  bool met = false;
  std::string why;  // when not met: what was compared with what
};

// Throws ExperimentError for a tolerance that is not one of the forms above.
ToleranceResult check_tolerance(const Json& tolerance, const Json& output);

// {"type": "probe", "provider": ...}: another probe decides (it runs with the
// output as its argument `value`); the runner runs it.
// (A "type" that is not a string is no probe: check_tolerance names the problem.)
inline bool is_probe_tolerance(const Json& t) {
  if (!t.is_object()) return false;
  const auto type = t.find("type");
  return type != t.end() && type->is_string() && type->get_ref<const std::string&>() == "probe";
}

// A JSONPath subset: $, .key, ['key'], [N], [*], ..key (recursive); the
// values it selects.
std::vector<Json> json_path(const Json& document, const std::string& path);

}  // namespace faultline::experiment
