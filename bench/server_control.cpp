#include "server_control.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "net_util.h"

namespace fbench {

HttpReply http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                       double timeout_s) {
  HttpReply reply;
  const int fd = connect_blocking(port, timeout_s);
  if (fd < 0) return reply;
  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\nUser-Agent: faultline-bench\r\n";
  if (!body.empty() || method == "POST")
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  if (!write_all(fd, request.data(), request.size(), deadline)) {
    ::close(fd);
    return reply;
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) {
      raw.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r == 0) break;
    if (errno == EAGAIN || errno == EINTR) {
      if (!wait_fd(fd, POLLIN, deadline)) break;
      continue;
    }
    break;
  }
  ::close(fd);
  if (raw.rfind("HTTP/", 0) != 0) return reply;
  const size_t sp = raw.find(' ');
  if (sp == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + sp + 1);
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end != std::string::npos) reply.body = raw.substr(head_end + 4);
  return reply;
}

double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  const size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream rest(line.substr(close_paren + 2));
  std::vector<std::string> fields;
  std::string f;
  while (rest >> f) fields.push_back(f);
  if (fields.size() < 13) return -1;
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long process_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

double wait_until_idle(pid_t pid, double max_s) {
  const double tick = 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double start = now_s();
  int quiet = 0;
  double before = process_cpu_seconds(pid);
  while (now_s() - start < max_s && before >= 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double after = process_cpu_seconds(pid);
    quiet = (after - before <= tick * 1.01) ? quiet + 1 : 0;
    before = after;
    if (quiet >= 3) break;
  }
  return now_s() - start;
}

pid_t spawn(const std::string& command, const std::string& log_path) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    const int out = ::open(log_path.empty() ? "/dev/null" : log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) ::dup2(out, 1), ::dup2(out, 2);
    if (in >= 0) ::dup2(in, 0);
    const std::string sh = "exec " + command;
    ::execl("/bin/sh", "sh", "-c", sh.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(child, child);
  return child;
}

std::string run_capture(const std::string& command, double timeout_s, int& exit_code) {
  exit_code = -1;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {};
  }
  if (child == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::dup2(fds[1], 1);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) ::dup2(null, 0), ::dup2(null, 2);
    const std::string sh = "exec " + command;
    ::execl("/bin/sh", "sh", "-c", sh.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(child, child);
  ::close(fds[1]);
  std::string out;
  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  char buf[8192];
  for (;;) {
    if (!wait_fd(fds[0], POLLIN, deadline)) break;
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r > 0) out.append(buf, static_cast<size_t>(r));
    else if (r == 0 || errno != EINTR) break;
  }
  ::close(fds[0]);
  if (now_ns() >= deadline) {
    stop_process(child, 1.0);
    return out;
  }
  int status = 0;
  pid_t r = 0;
  const double end = now_s() + 5.0;
  while ((r = ::waitpid(child, &status, WNOHANG)) == 0 && now_s() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (r == child && WIFEXITED(status)) exit_code = WEXITSTATUS(status);
  else if (r == 0) stop_process(child, 1.0);
  return out;
}

bool is_alive(pid_t child) {
  int status = 0;
  return ::waitpid(child, &status, WNOHANG) == 0;
}

bool wait_exit(pid_t child, double timeout_s) {
  const double end = now_s() + timeout_s;
  int status = 0;
  while (now_s() < end) {
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child || (r < 0 && errno == ECHILD)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop_process(child, 1.0);
  return false;
}

void stop_process(pid_t child, double grace_s) {
  if (child <= 0) return;
  ::kill(-child, SIGTERM);
  const double end = now_s() + grace_s;
  int status = 0;
  while (now_s() < end) {
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child || (r < 0 && errno == ECHILD)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-child, SIGKILL);
  ::waitpid(child, &status, 0);
}

namespace {

// Inodes of sockets listening on `port` (IPv4 and IPv6 tables).
std::vector<std::string> listening_inodes(int port) {
  std::vector<std::string> inodes;
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state != "0A") continue;
      if (local.size() >= 5 && local.compare(local.size() - 5, 5, want) == 0) inodes.push_back(inode);
    }
  }
  return inodes;
}

}  // namespace

bool is_listening(int port) { return !listening_inodes(port).empty(); }

pid_t listening_pid(int port) {
  const auto inodes = listening_inodes(port);
  if (inodes.empty()) return -1;
  DIR* proc = ::opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string dir = std::string("/proc/") + e->d_name + "/fd";
    DIR* fds = ::opendir(dir.c_str());
    if (!fds) continue;
    while (dirent* fe = ::readdir(fds)) {
      char target[128];
      const std::string link = dir + "/" + fe->d_name;
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      for (const auto& inode : inodes)
        if (std::string(target) == "socket:[" + inode + "]") found = static_cast<pid_t>(std::atoi(e->d_name));
      if (found > 0) break;
    }
    ::closedir(fds);
    if (found > 0) break;
  }
  ::closedir(proc);
  return found;
}

namespace {

std::string replace_all(std::string s, const std::string& what, const std::string& with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
  return s;
}

}  // namespace

bool ServerProcess::start(double timeout_s) {
  error.clear();
  api_port = free_port();
  const std::string cmd = replace_all(replace_all(command, "{host}", "127.0.0.1"), "{port}", std::to_string(api_port));
  child = spawn(cmd, log_path);
  if (child < 0) {
    error = "fork failed";
    return false;
  }
  const double end = now_s() + timeout_s;
  while (now_s() < end) {
    if (!is_alive(child)) {
      error = "server exited during start-up; log tail:\n" + log_tail();
      child = -1;
      return false;
    }
    if (http_request(api_port, "GET", "/proxies", "", 1.0).status == 200) {
      pid = listening_pid(api_port);
      if (pid <= 0) pid = child;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error = "no answer to GET /proxies within " + std::to_string(static_cast<int>(timeout_s)) + " s; log tail:\n" + log_tail();
  stop();
  return false;
}

void ServerProcess::stop() {
  if (child > 0) stop_process(child);
  child = -1;
  pid = -1;
}

std::string ServerProcess::log_tail(size_t bytes) const {
  std::ifstream in(log_path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace fbench
