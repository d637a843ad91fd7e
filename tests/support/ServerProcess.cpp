#include "ServerProcess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "Sockets.h"

#ifndef FAULTLINE_SERVER_PATH
#define FAULTLINE_SERVER_PATH "faultline-server"
#endif

namespace faultline::test {
namespace {

std::string temp_output_path() {
  char path[] = "/tmp/faultline-test-XXXXXX";
  const int fd = ::mkstemp(path);
  ::close(fd);
  return path;
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env,
            const std::string& output_path, int max_open_files = 0) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (max_open_files > 0) {
      const rlimit limit{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    const int out = ::open(output_path.c_str(), O_WRONLY | O_TRUNC);
    ::dup2(out, 1);
    ::dup2(out, 2);
    const int null_in = ::open("/dev/null", O_RDONLY);
    ::dup2(null_in, 0);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string server_binary() {
  if (const char* env = std::getenv("FAULTLINE_SERVER")) return env;
  return FAULTLINE_SERVER_PATH;
}

ServerProcess::ServerProcess(ServerOptions options) : output_path_(temp_output_path()) {
  api_port_ = free_port();
  std::vector<std::string> args = {server_binary(), "-host", "127.0.0.1", "-port", std::to_string(api_port_)};
  for (const auto& a : options.args) args.push_back(a);
  auto env = options.env;
  bool has_level = false;
  for (const auto& [k, v] : env) has_level = has_level || k == "LOG_LEVEL";
  if (!has_level) env.emplace_back("LOG_LEVEL", "debug");
  pid_ = spawn(args, env, output_path_, options.max_open_files);
  if (!options.wait_ready) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (port_accepts(api_port_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("faultline-server exited at start-up:\n" + output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("faultline-server did not answer within 20 s:\n" + output());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL, 5000);
  ::unlink(output_path_.c_str());
}

std::string ServerProcess::output() const { return read_file(output_path_); }

bool ServerProcess::wait_for_output(const std::string& text, int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (output().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  return true;
}

int ServerProcess::stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, signal);
  int status = wait_for(pid_, timeout_ms);
  if (status == -2) {
    ::kill(pid_, SIGKILL);
    wait_for(pid_, 5000);
    status = -1;
  }
  pid_ = -1;
  exit_status_ = status;
  return status;
}

int ServerProcess::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return exit_status_;
  const int status = wait_for(pid_, timeout_ms);
  if (status == -2) return -1;
  pid_ = -1;
  exit_status_ = status;
  return status;
}

int ServerProcess::create_proxy(const std::string& name, int upstream_port, const std::string& extra_json) {
  const std::string body = "{\"name\":\"" + name + "\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:" +
                           std::to_string(upstream_port) + "\"" + extra_json + "}";
  HttpResponse r = api().post("/proxies", body);
  if (r.status != 201) throw std::runtime_error("create proxy failed: " + std::to_string(r.status) + " " + r.body);
  const std::string listen = nlohmann::json::parse(r.body)["listen"];
  return std::stoi(listen.substr(listen.rfind(':') + 1));
}

RunResult run_server_to_exit(const std::vector<std::string>& args, int timeout_ms) {
  const std::string out = temp_output_path();
  std::vector<std::string> full = {server_binary()};
  full.insert(full.end(), args.begin(), args.end());
  const pid_t pid = spawn(full, {{"LOG_LEVEL", "info"}}, out);
  RunResult r;
  r.exit_code = wait_for(pid, timeout_ms);
  if (r.exit_code == -2) {
    ::kill(pid, SIGKILL);
    wait_for(pid, 5000);
    r.exit_code = -1;
  }
  r.output = read_file(out);
  ::unlink(out.c_str());
  return r;
}

}  // namespace faultline::test
