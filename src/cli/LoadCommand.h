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

// "2000/s", "2000", "120/m", "5k/s" -> requests per second; throws std::invalid_argument.
double parse_request_rate(const std::string& text);

}  // namespace faultline::cli
