#pragma once
// Runs the real faultline-server binary for a test, on a free API port, with
// its output in a temporary file; stops it when the test ends.
#include <sys/types.h>

#include <string>
#include <vector>

#include "HttpClient.h"

namespace faultline::test {

// Path of the server binary under test ($FAULTLINE_SERVER or the build's).
std::string server_binary();

struct ServerOptions {
  std::vector<std::string> args;  // extra flags
  std::vector<std::pair<std::string, std::string>> env;
  bool wait_ready = true;         // wait until GET /version answers
  int max_open_files = 0;         // RLIMIT_NOFILE for the server; 0 keeps the test's
};

class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int api_port() const { return api_port_; }
  pid_t pid() const { return pid_; }
  HttpClient api() const { return HttpClient(api_port_); }
  std::string output() const;  // stdout and stderr so far
  // The log is written by a background thread: a line logged before the API
  // answered may reach the file a moment later. Waits up to `timeout_ms` for
  // `text` to appear; true when it did.
  bool wait_for_output(const std::string& text, int timeout_ms = 5000) const;
  bool running();
  // Sends `signal` and waits up to `timeout_ms` for exit; returns the exit
  // status (or -1 when it had to be killed).
  int stop(int signal, int timeout_ms = 15000);
  // Waits for the process to exit by itself (e.g. a bad flag); -1 on timeout.
  int wait_exit(int timeout_ms = 10000);

  // Creates a proxy through the API and returns its listen port.
  int create_proxy(const std::string& name, int upstream_port, const std::string& extra_json = "");

 private:
  int api_port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string output_path_;
};

// Runs the server binary with `args` to completion (for -version, bad flags,
// bad configs); returns the exit code and what it printed.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult run_server_to_exit(const std::vector<std::string>& args, int timeout_ms = 10000);

}  // namespace faultline::test
