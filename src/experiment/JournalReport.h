#pragma once
// What `faultline report` makes of journals (ours or the Chaos Toolkit's:
// the same fields): a plain-text summary for the terminal and a
// self-contained HTML page with a timeline of the activities, their
// outputs and tolerances. Missing or odd fields are shown as missing; a
// journal is never trusted to be well formed.
#include <string>
#include <vector>

#include "experiment/Experiment.h"

namespace faultline::experiment {

// Throws ExperimentError when the file cannot be read or is not a JSON object.
Json load_journal(const std::string& path);

// Several lines: title, status, duration, each phase with its activities.
std::string journal_summary(const Json& journal);

// One page for one or more journals.
std::string journal_html(const std::vector<Json>& journals);

}  // namespace faultline::experiment
