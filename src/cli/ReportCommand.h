#pragma once
// `faultline report JOURNAL...`: a summary of experiment journals on the
// terminal and, with --html, a self-contained report page.
#include <functional>

namespace CLI {
class App;
}

namespace faultline::cli {

void add_report_command(CLI::App& app, std::function<int()>& run);

}  // namespace faultline::cli
