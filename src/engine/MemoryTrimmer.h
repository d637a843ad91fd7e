#pragma once
// Gives memory back to the system after a burst. glibc keeps what a thread
// freed in that thread's arena, so after thousands of connections held data
// (a latency toxic on a busy proxy) the server stayed at hundreds of MB with
// every connection closed. Each loop looks every few seconds; when a burst
// has passed (many buffers or connections freed since the last look) it asks
// the allocator to release its free pages (malloc_trim), which costs a few
// milliseconds and only happens after such bursts.
#include <malloc.h>

#include <cstddef>

#include "engine/BufferPool.h"
#include "engine/EventLoop.h"

namespace faultline {

class MemoryTrimmer {
 public:
  static constexpr Millis kInterval{2000};
  static constexpr size_t kFreedBuffersWorthATrim = 64;        // 4 MiB of 64 KiB buffers
  static constexpr size_t kClosedConnectionsWorthATrim = 1000;

  MemoryTrimmer(EventLoop& loop, BufferPool& buffers) : loop_(loop), buffers_(buffers) {
    timer_.set_callback([this] { look(); });
  }
  void start() { loop_.timers().arm(timer_, loop_.now() + kInterval); }
  void stop() { loop_.timers().cancel(timer_); }
  void connection_closed() { ++closed_; }
  size_t trims() const { return trims_; }

 private:
  void look() {
    const size_t freed = buffers_.take_freed_count();
    if (freed >= kFreedBuffersWorthATrim || closed_ >= kClosedConnectionsWorthATrim) {
      ::malloc_trim(0);
      ++trims_;
    }
    closed_ = 0;
    start();
  }

  EventLoop& loop_;
  BufferPool& buffers_;
  Timer timer_;
  size_t closed_ = 0;
  size_t trims_ = 0;
};

}  // namespace faultline
