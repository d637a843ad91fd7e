#pragma once
// The upstream servers the proxies forward to, all in one epoll thread of the
// benchmark process:
//   echo    - sends back every byte it reads
//   oneshot - reads a 32-byte request, sends it back, then closes first
//   source  - writes as fast as the reader takes, ignores what it reads
//   sink    - reads and discards, counting the bytes
#include <atomic>
#include <cstdint>
#include <thread>

namespace fbench {

class Upstreams {
 public:
  static constexpr size_t kOneshotSize = 32;

  Upstreams();
  ~Upstreams();
  Upstreams(const Upstreams&) = delete;
  Upstreams& operator=(const Upstreams&) = delete;

  bool ok() const { return ok_; }
  int echo_port() const { return ports_[kEcho]; }
  int oneshot_port() const { return ports_[kOneshot]; }
  int source_port() const { return ports_[kSource]; }
  int sink_port() const { return ports_[kSink]; }
  uint64_t sink_bytes() const { return sink_bytes_.load(std::memory_order_relaxed); }

 private:
  enum Kind { kEcho, kOneshot, kSource, kSink, kKinds };
  void run();

  bool ok_ = false;
  int ports_[kKinds] = {};
  int listen_fds_[kKinds] = {-1, -1, -1, -1};
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<uint64_t> sink_bytes_{0};
  std::thread thread_;
};

}  // namespace fbench
