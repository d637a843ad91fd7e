#include "Upstreams.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "Sockets.h"

namespace faultline::test {

TestUpstream::TestUpstream(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 1024) != 0)
    throw std::runtime_error("test upstream cannot listen");
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestUpstream::~TestUpstream() {
  stopping_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mutex_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void TestUpstream::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    ++accepted_;
    ++open_;
    std::lock_guard lock(mutex_);
    client_fds_.push_back(fd);
    workers_.emplace_back([this, fd] {
      handler_(fd);
      {
        std::lock_guard inner(mutex_);
        std::erase(client_fds_, fd);
      }
      ::close(fd);
      --open_;
    });
  }
}

namespace {
bool wait_until(const std::function<bool()>& ok, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!ok()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}
}  // namespace

bool TestUpstream::wait_accepted(int n, int timeout_ms) const {
  return wait_until([&] { return accepted_.load() >= n; }, timeout_ms);
}

bool TestUpstream::wait_open(int n, int timeout_ms) const {
  return wait_until([&] { return open_.load() == n; }, timeout_ms);
}

TestUpstream::Handler TestUpstream::echo_handler() {
  return [](int fd) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      try {
        send_all(fd, std::string(buf, static_cast<size_t>(n)));
      } catch (...) {
        return;
      }
    }
    ::shutdown(fd, SHUT_WR);
  };
}

TestUpstream::Handler TestUpstream::sink_handler() {
  return [](int fd) {
    char buf[65536];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    ::shutdown(fd, SHUT_WR);
  };
}

TestUpstream::Handler TestUpstream::send_then_close(std::string data) {
  return [data](int fd) {
    try {
      send_all(fd, data);
    } catch (...) {
    }
  };
}

TestUpstream::Handler TestUpstream::greet(std::string greeting) {
  return [greeting](int fd) {
    try {
      send_all(fd, greeting);
    } catch (...) {
      return;
    }
    echo_handler()(fd);
  };
}

}  // namespace faultline::test
