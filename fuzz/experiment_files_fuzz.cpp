// Experiment files and journals, JSON or YAML (the first byte chooses):
// every input is read or refused with an ExperimentError, and whatever is
// read goes through what `faultline validate` and `faultline report` do
// without running anything: values, substitution, provider and tolerance
// checks (each tolerance against a few outputs), JSONPath, the runtime
// block, and both reports with the document taken as a journal. Nothing
// here touches the network or starts a process.
#include <cstddef>
#include <cstdint>
#include <string>

#include "experiment/Experiment.h"
#include "experiment/JournalReport.h"
#include "experiment/Providers.h"
#include "experiment/Runner.h"
#include "experiment/Tolerance.h"
#include "experiment/Variables.h"

using namespace faultline::experiment;

namespace {

void check_activities(const std::vector<Json>& list, const Json& values) {
  static const Json outputs[] = {Json(), Json(true), Json(200), Json("text"),
                                 Json::parse(R"({"status":200,"headers":{},"body":{"a":[1,{"b":"x"}]},"p99_ms":3.5})")};
  for (const auto& a : list) {
    try {
      check_provider(a["provider"], "fuzz");
    } catch (const ExperimentError&) {
    }
    const Json substituted = substitute(a, values);
    if (!substituted.contains("tolerance") || is_probe_tolerance(substituted["tolerance"])) continue;
    for (const auto& output : outputs) {
      try {
        (void)check_tolerance(substituted["tolerance"], output);
      } catch (const ExperimentError&) {
      }
    }
    const Json& t = substituted["tolerance"];
    if (t.is_object() && t.contains("path") && t["path"].is_string()) (void)json_path(outputs[4], t["path"].get<std::string>());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool yaml = data[0] & 1;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  Experiment e;
  try {
    e = parse_experiment(text, yaml ? "fuzz.yaml" : "fuzz.json", yaml);
  } catch (const ExperimentError&) {
    // Not an experiment; it may still be shown as a journal.
    const Json doc = Json::parse(text, nullptr, false);
    if (!doc.is_discarded() && doc.is_object()) {
      (void)journal_summary(doc);
      (void)journal_html({doc});
    }
    return 0;
  }
  Json values = Json::object();
  try {
    values = resolve_values(e, Json::object());
  } catch (const ExperimentError&) {
  }
  check_activities(e.hypothesis, values);
  check_activities(e.method, values);
  check_activities(e.rollbacks, values);
  try {
    check_runtime(e, RunOptions{});
  } catch (const ExperimentError&) {
  }
  (void)journal_summary(e.document);
  (void)journal_html({e.document});
  return 0;
}
