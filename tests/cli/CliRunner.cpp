#include "CliRunner.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace faultline::test {
namespace {

constexpr int kTimeoutMs = 30000;

[[noreturn]] void exec_cli(const std::vector<std::string>& args, const CliOptions& options) {
  for (const char* name : {"FAULTLINE_URL", "TOXIPROXY_URL", "NO_COLOR", "FAULTLINE_API_TOKEN", "FAULTLINE_CACERT", "FAULTLINE_CLIENT_CERT",
                           "FAULTLINE_CLIENT_KEY", "FAULTLINE_INSECURE"})
    ::unsetenv(name);
  if (options.terminal) ::setenv("TERM", "xterm", 1);
  for (const auto& [key, value] : options.env) ::setenv(key.c_str(), value.c_str(), 1);
  std::vector<char*> argv;
  std::string binary = FAULTLINE_CLI_PATH;
  argv.push_back(binary.data());
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  ::_exit(127);
}

// Reads every fd until all have ended (EOF or EIO from a closed pty).
void drain(std::vector<std::pair<int, std::string*>> sources) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  while (!sources.empty() && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (const auto& source : sources) fds.push_back({source.first, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    for (size_t i = fds.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sources[i].second->append(buffer, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        sources.erase(sources.begin() + static_cast<long>(i));
      }
    }
  }
  for (const auto& source : sources) ::close(source.first);
}

int reap(pid_t pid) {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    ::usleep(2000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CliResult run_on_terminal(const std::vector<std::string>& args, const CliOptions& options) {
  int master = -1;
  winsize size{50, 200, 0, 0};  // wide enough that tables never wrap
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) exec_cli(args, options);
  CliResult result;
  drain({{master, &result.out}});
  result.exit_code = reap(pid);
  // The terminal turns "\n" into "\r\n".
  std::erase(result.out, '\r');
  return result;
}

}  // namespace

CliResult run_cli(const std::vector<std::string>& args, const CliOptions& options) {
  if (options.terminal) return run_on_terminal(args, options);
  int out[2], err[2];
  if (::pipe(out) != 0 || ::pipe(err) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    exec_cli(args, options);
  }
  ::close(out[1]);
  ::close(err[1]);
  CliResult result;
  drain({{out[0], &result.out}, {err[0], &result.err}});
  result.exit_code = reap(pid);
  return result;
}

std::string api_url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

}  // namespace faultline::test
