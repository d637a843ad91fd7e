#pragma once
// `faultline load`: the load generator and prober (src/load/), wired to the
// command line. It needs no API unless --events names one.
#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace faultline::cli {

// Adds the command; when it is chosen, `run` is set to what runs it (its
// exit status).
void add_load_command(CLI::App& app, std::function<int()>& run);

}  // namespace faultline::cli
