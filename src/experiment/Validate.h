#pragma once
// `faultline validate`: everything that can be known about an experiment
// without running it, each problem with its path in the document.
#include <string>
#include <vector>

#include "experiment/Experiment.h"

namespace faultline::experiment {

// The problems found ("method[1].provider: ..."); empty when none.
std::vector<std::string> validate_experiment(const std::string& path, const Json& overrides);

}  // namespace faultline::experiment
