// The process provider: a program run without a shell, its output captured,
// killed when it outlives its timeout (or the run is interrupted).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>

#include "experiment/Providers.h"

extern char** environ;

namespace faultline::experiment {
namespace {

std::vector<std::string> argument_list(const Json& p) {
  std::vector<std::string> args;
  const Json a = p.value("arguments", Json());
  if (a.is_array()) {
    for (const auto& v : a) args.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  } else if (a.is_string()) {
    std::istringstream words(a.get<std::string>());
    for (std::string w; words >> w;) args.push_back(w);
  } else if (!a.is_null()) {
    throw ActivityFailed("process arguments must be a list or a string");
  }
  return args;
}

}  // namespace

Json run_process(const Json& p, const ActivityContext& context) {
  const std::string path = p["path"];
  std::vector<std::string> args = argument_list(p);
  args.insert(args.begin(), path);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const double timeout_s = context.limit_s(p.contains("timeout") && p["timeout"].is_number() ? p["timeout"].get<double>() : 60.0);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw ActivityFailed(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    throw ActivityFailed("cannot run " + path + ": " + std::strerror(rc));
  }
  std::string captured[2];
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool timed_out = false;
  int open = 2;
  while (open > 0) {
    if (context.cancelled() || std::chrono::steady_clock::now() >= deadline) {
      timed_out = !context.cancelled();
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, 50) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[8192];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0 && captured[i].size() < 16 * 1024 * 1024) captured[i].append(buffer, static_cast<size_t>(n));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) throw ActivityFailed(path + " did not finish within " + std::to_string(timeout_s) + " s");
  if (context.cancelled()) throw ActivityFailed(path + " was stopped: the run was interrupted");
  Json result;
  result["status"] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result["stdout"] = captured[0];
  result["stderr"] = captured[1];
  return result;
}

}  // namespace faultline::experiment
