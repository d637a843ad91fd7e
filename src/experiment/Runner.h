#pragma once
// Runs one experiment the way the Chaos Toolkit does and writes its
// journal: the steady-state hypothesis before the method (when it is not
// met, the method is skipped and the experiment fails), the method's
// activities in order with their pauses, the hypothesis again after it
// (not met: deviated), then the rollbacks as the strategy says.
//
// Our reading of the strategies (documented in docs/experiments.md):
// rollbacks: default runs them whenever the method started (also after
// Ctrl+C); always also when the hypothesis before failed; deviated only
// when the steady state deviated; never.
// hypothesis: default is before and after; during-method-only checks it
// every `hypothesis_frequency_s` while the method runs (the first check at
// once); continuously is before, during and after. A check during the
// method that is not met makes the run deviate; with fail_fast it also
// stops the method there.
// Background activities start and the method goes on; all are joined
// before the hypothesis after. Their journal entries keep the method's
// order.
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>

#include "experiment/Experiment.h"

namespace faultline::experiment {

enum class DryMode { None, Probes, Actions, Activities, Pause };
enum class RollbackStrategy { Default, Always, Never, Deviated };
enum class HypothesisStrategy { Default, BeforeMethodOnly, AfterMethodOnly, DuringMethodOnly, Continuously };

// Throw ExperimentError naming `what` and the allowed values.
RollbackStrategy parse_rollback_strategy(const std::string& text, const std::string& what);
HypothesisStrategy parse_hypothesis_strategy(const std::string& text, const std::string& what);

// Unset strategies come from the experiment's `runtime` block, else the default.
struct RunOptions {
  Json overrides = Json::object();  // --var-file, then --var
  DryMode dry = DryMode::None;
  std::optional<RollbackStrategy> rollbacks;
  std::optional<HypothesisStrategy> hypothesis;
  std::optional<double> hypothesis_frequency_s;  // default 1 s
  bool fail_fast = false;  // a deviation during the method stops it
  const std::atomic<bool>* interrupted = nullptr;  // Ctrl+C
  std::FILE* log = stderr;
  bool colour = false;
};

// The journal (the toolkit's field names and types). Throws ExperimentError
// before anything runs for a problem in the experiment (an unset variable,
// an unavailable python function).
Json run_experiment(const Experiment& experiment, const RunOptions& options);

// Throws ExperimentError for a bad `runtime` block, without running anything.
void check_runtime(const Experiment& experiment, const RunOptions& options);

// 0 when the journal's status is "completed" and it did not deviate.
inline bool passed(const Json& journal) { return text_of(journal, "status") == "completed" && !journal.value("deviated", false); }

}  // namespace faultline::experiment
