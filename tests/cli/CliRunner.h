#pragma once
// Runs the real `faultline` binary for a test and captures what it printed
// and how it exited. Either with pipes (what scripts see) or on a
// pseudo-terminal (what a person sees: tables and colour).
#include <string>
#include <utility>
#include <vector>

namespace faultline::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;  // on a terminal, stderr is mixed into `out`
};

struct CliOptions {
  // Set in the child after FAULTLINE_URL, TOXIPROXY_URL and NO_COLOR have
  // been removed, so the test's own environment never leaks in.
  std::vector<std::pair<std::string, std::string>> env;
  bool terminal = false;
};

CliResult run_cli(const std::vector<std::string>& args, const CliOptions& options = {});

// "http://127.0.0.1:PORT"
std::string api_url(int port);

// Splits output into lines (without the newlines).
std::vector<std::string> lines_of(const std::string& text);

}  // namespace faultline::test
