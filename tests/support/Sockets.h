#pragma once
// Blocking socket helpers for tests: real loopback TCP, with timeouts so a
// broken server fails a test instead of hanging it.
#include <chrono>
#include <string>

namespace faultline::test {

using namespace std::chrono_literals;

// A port that was free a moment ago (bound to 0 and released).
int free_port();

// Connects to host:port; returns the fd or -1. Sets TCP_NODELAY.
int connect_tcp(int port, const std::string& host = "127.0.0.1", std::chrono::milliseconds timeout = 3000ms);
// Like connect_tcp, and on failure `error` tells why (ECONNREFUSED, ECONNRESET, ETIMEDOUT).
int connect_tcp_reporting(int port, int& error, const std::string& host = "127.0.0.1");
bool port_accepts(int port, const std::string& host = "127.0.0.1");

void send_all(int fd, const std::string& data);
void shutdown_write(int fd);
void close_fd(int& fd);

enum class ReadEnd { Data, Eof, Reset, Timeout };
const char* to_string(ReadEnd e);

struct ReadResult {
  std::string data;
  ReadEnd end = ReadEnd::Data;
};

// Reads exactly n bytes unless the peer ends first or the time runs out.
ReadResult recv_exact(int fd, size_t n, std::chrono::milliseconds timeout = 5000ms);
// Reads until EOF/reset/timeout.
ReadResult recv_all(int fd, std::chrono::milliseconds timeout = 5000ms);
// Waits for the connection to end without expecting data: returns how it ended.
ReadEnd wait_for_end(int fd, std::chrono::milliseconds timeout = 5000ms);

// A socket that closes itself.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  ~Socket();
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void send(const std::string& data) const { send_all(fd_, data); }

 private:
  int fd_ = -1;
};

std::string random_bytes(size_t n, unsigned seed = 1);

}  // namespace faultline::test
