#pragma once
// Runs one experiment the way the Chaos Toolkit does and writes its
// journal: the steady-state hypothesis before the method (when it is not
// met, the method is skipped and the experiment fails), the method's
// activities in order with their pauses, the hypothesis again after it
// (not met: deviated), then the rollbacks as the strategy says.
//
// Our reading of the strategies (documented in docs/experiments.md):
// default: rollbacks run whenever the method started (also after Ctrl+C);
// always: also when the hypothesis before failed; deviated: only when the
// hypothesis after failed; never.
#include <atomic>
#include <cstdio>
#include <string>

#include "experiment/Experiment.h"

namespace faultline::experiment {

enum class DryMode { None, Probes, Actions, Activities, Pause };
enum class RollbackStrategy { Default, Always, Never, Deviated };
enum class HypothesisStrategy { Default, BeforeMethodOnly, AfterMethodOnly };

struct RunOptions {
  Json overrides = Json::object();  // --var-file, then --var
  DryMode dry = DryMode::None;
  RollbackStrategy rollbacks = RollbackStrategy::Default;
  HypothesisStrategy hypothesis = HypothesisStrategy::Default;
  const std::atomic<bool>* interrupted = nullptr;  // Ctrl+C
  std::FILE* log = stderr;
  bool colour = false;
};

// The journal (the toolkit's field names and types). Throws ExperimentError
// before anything runs for a problem in the experiment (an unset variable,
// an unavailable python function).
Json run_experiment(const Experiment& experiment, const RunOptions& options);

// 0 when the journal's status is "completed" and it did not deviate.
inline bool passed(const Json& journal) { return journal.value("status", "") == "completed" && !journal.value("deviated", false); }

}  // namespace faultline::experiment
