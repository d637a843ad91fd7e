#pragma once
// Upstream servers for tests, on 127.0.0.1 and a free port, one thread per
// connection. The default handler echoes and half-closes when the client does.
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace faultline::test {

class TestUpstream {
 public:
  using Handler = std::function<void(int fd)>;
  explicit TestUpstream(Handler handler = echo_handler());
  ~TestUpstream();
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int open_connections() const { return open_.load(); }
  // Waits until `n` connections have been accepted (true) or the time is up.
  bool wait_accepted(int n, int timeout_ms = 3000) const;
  bool wait_open(int n, int timeout_ms = 3000) const;

  static Handler echo_handler();
  static Handler sink_handler();                          // reads and drops, half-closes at EOF
  static Handler send_then_close(std::string data);       // writes data, then closes
  static Handler greet(std::string greeting);             // speaks first, then echoes

 private:
  void accept_loop();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<int> client_fds_;
};

}  // namespace faultline::test
