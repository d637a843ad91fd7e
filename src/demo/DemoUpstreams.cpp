#include "demo/DemoUpstreams.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "net/ListenSocket.h"

namespace faultline {
namespace {

void make_blocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK); }

bool write_all(int fd, const char* data, size_t length) {
  while (length > 0) {
    const ssize_t n = ::send(fd, data, length, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

// Echoes every byte back; when the client half-closes, so does the server.
void serve_echo(int fd) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (!write_all(fd, buf, static_cast<size_t>(n))) break;
  }
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

// Answers every request with a short page; keeps the connection open while
// the client asks for keep-alive (HTTP/1.1's default).
void serve_http(int fd) {
  std::string pending;
  char buf[8192];
  int served = 0;
  for (;;) {
    size_t end;
    while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      pending.append(buf, static_cast<size_t>(n));
    }
    const std::string head = pending.substr(0, end);
    pending.erase(0, end + 4);
    const bool close_after = head.find("HTTP/1.0") != std::string::npos ||
                             head.find("onnection: close") != std::string::npos;
    ++served;
    const auto now = std::chrono::system_clock::now();
    const std::string body = fmt::format(
        "Hello from the faultline demo upstream!\nrequest {} on this connection, served at {} ms since the epoch\n",
        served, std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    const std::string response = fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{}\r\n{}", body.size(),
        close_after ? "Connection: close\r\n" : "", body);
    if (!write_all(fd, response.data(), response.size()) || close_after) break;
  }
  ::close(fd);
}

}  // namespace

struct DemoUpstreams::Impl {
  std::atomic<bool> stopping{false};
  std::vector<int> fds;
  std::vector<DemoListener::Kind> kinds;
  std::thread acceptor;

  void accept_loop() {
    std::vector<pollfd> polled;
    for (int fd : fds) polled.push_back({fd, POLLIN, 0});
    while (!stopping) {
      if (::poll(polled.data(), polled.size(), 200) <= 0) continue;
      for (size_t i = 0; i < polled.size(); ++i) {
        if (!(polled[i].revents & POLLIN)) continue;
        const int fd = ::accept4(polled[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        make_blocking(fd);
        std::thread(kinds[i] == DemoListener::Kind::Echo ? serve_echo : serve_http, fd).detach();
      }
    }
  }
};

DemoUpstreams::DemoUpstreams(const DemoUpstreamAddresses& addresses)
    : DemoUpstreams(std::vector<DemoListener>{{addresses.echo, DemoListener::Kind::Echo}, {addresses.http, DemoListener::Kind::Http}}) {}

DemoUpstreams::DemoUpstreams(const std::vector<DemoListener>& listeners) : impl_(std::make_unique<Impl>()) {
  for (const auto& l : listeners) {
    auto opened = net::open_listen_socket(l.address);
    if (opened.fd < 0) {
      for (int fd : impl_->fds) ::close(fd);
      throw std::runtime_error(std::string(l.kind == DemoListener::Kind::Echo ? "demo echo upstream " : "test HTTP upstream ") +
                               l.address + ": " + opened.error);
    }
    impl_->fds.push_back(opened.fd);
    impl_->kinds.push_back(l.kind);
  }
  impl_->acceptor = std::thread([this] { impl_->accept_loop(); });
}

DemoUpstreams::~DemoUpstreams() {
  impl_->stopping = true;
  impl_->acceptor.join();
  for (int fd : impl_->fds) ::close(fd);
}

}  // namespace faultline
