#include "Sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace faultline::test {

int connect_with_error(int port, const std::string& host, std::chrono::milliseconds timeout, int& error);

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_tcp(int port, const std::string& host, std::chrono::milliseconds timeout) {
  int ignored = 0;
  return connect_with_error(port, host, timeout, ignored);
}

int connect_tcp_reporting(int port, int& error, const std::string& host) {
  return connect_with_error(port, host, 3000ms, error);
}

int connect_with_error(int port, const std::string& host, std::chrono::milliseconds timeout, int& error) {
  const bool v6 = host.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0 && errno != EINPROGRESS) {
    error = errno;
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    error = ETIMEDOUT;
    ::close(fd);
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    error = err;
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, 0);
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd;
}

bool port_accepts(int port, const std::string& host) {
  const int fd = connect_tcp(port, host, 1000ms);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

void send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("send failed: " + std::string(std::strerror(errno)));
    off += static_cast<size_t>(n);
  }
}

void shutdown_write(int fd) { ::shutdown(fd, SHUT_WR); }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

const char* to_string(ReadEnd e) {
  switch (e) {
    case ReadEnd::Data: return "data";
    case ReadEnd::Eof: return "eof";
    case ReadEnd::Reset: return "reset";
    case ReadEnd::Timeout: return "timeout";
  }
  return "?";
}

namespace {

ReadResult read_loop(int fd, size_t limit, std::chrono::milliseconds timeout) {
  ReadResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (r.data.size() < limit) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.end = ReadEnd::Timeout;
      return r;
    }
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc == 0) {
      r.end = ReadEnd::Timeout;
      return r;
    }
    if (rc < 0) continue;
    const size_t want = std::min(sizeof buf, limit - r.data.size());
    const ssize_t n = ::recv(fd, buf, want, 0);
    if (n > 0) {
      r.data.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      r.end = ReadEnd::Eof;
      return r;
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    r.end = errno == ECONNRESET ? ReadEnd::Reset : ReadEnd::Eof;
    return r;
  }
  r.end = ReadEnd::Data;
  return r;
}

}  // namespace

ReadResult recv_exact(int fd, size_t n, std::chrono::milliseconds timeout) { return read_loop(fd, n, timeout); }
ReadResult recv_all(int fd, std::chrono::milliseconds timeout) { return read_loop(fd, SIZE_MAX, timeout); }

ReadEnd wait_for_end(int fd, std::chrono::milliseconds timeout) {
  ReadResult r = read_loop(fd, SIZE_MAX, timeout);
  return r.end;
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<char>(v >> (8 * k));
  }
  return out;
}

}  // namespace faultline::test
