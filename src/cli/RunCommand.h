#pragma once
// `faultline run`: Chaos Toolkit experiments (src/experiment/), one file,
// several, or a folder of them, with a journal each and a summary.
#include <functional>

namespace CLI {
class App;
}

namespace faultline::cli {

void add_run_command(CLI::App& app, std::function<int()>& run);

}  // namespace faultline::cli
