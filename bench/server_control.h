#pragma once
// Starting, watching and stopping a Toxiproxy-API server, and talking to its
// HTTP API. Only processes started here are ever signalled (by process group
// id of the child we forked).
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace fbench {

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
};
HttpReply http_request(int port, const std::string& method, const std::string& path, const std::string& body = "",
                       double timeout_s = 5.0);

// CPU time (user + system, all threads) of a process in seconds; -1 if gone.
double process_cpu_seconds(pid_t pid);
// VmRSS in kB; -1 if gone.
long process_rss_kb(pid_t pid);
// Waits until the process uses at most one clock tick per 100 ms for 0.3 s
// (5 s at most). Returns the seconds waited.
double wait_until_idle(pid_t pid, double max_s = 5.0);

// Runs a command (through /bin/sh, in its own process group), stdout/stderr to
// `log_path` (or /dev/null). Returns the child pid or -1.
pid_t spawn(const std::string& command, const std::string& log_path);
// Runs a command and returns its stdout; kills it after timeout_s. exit_code
// gets the status (-1 when killed or failed).
std::string run_capture(const std::string& command, double timeout_s, int& exit_code);
// SIGTERM to the child's process group, SIGKILL after `grace_s`; reaps it.
void stop_process(pid_t child, double grace_s = 5.0);
// Waits for a child to exit by itself; false on timeout (then it is killed).
bool wait_exit(pid_t child, double timeout_s);
bool is_alive(pid_t child);

// True when something listens on 127.0.0.1/0.0.0.0/:: port `port`.
bool is_listening(int port);
// The pid whose descriptors include the socket listening on `port`; -1 if not found.
pid_t listening_pid(int port);

// A running server under test.
struct ServerProcess {
  std::string label;
  std::string command;  // with {host} and {port}
  std::string log_path;
  pid_t child = -1;     // what we forked
  pid_t pid = -1;       // what owns the API socket (measured)
  int api_port = 0;
  std::string error;

  bool start(double timeout_s = 20.0);
  void stop();
  std::string log_tail(size_t bytes = 2000) const;
};

}  // namespace fbench
