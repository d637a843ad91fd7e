#pragma once
// Parses the command line (CLI11), finds the server URL and runs the chosen
// command. Returns the process exit status: 0 on success, 1 on any error.
namespace faultline::cli {

int run(int argc, char** argv);

}  // namespace faultline::cli
