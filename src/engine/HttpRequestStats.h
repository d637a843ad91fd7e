#pragma once
// The HTTP requests an HTTP toxic framed on one proxy's connections: how
// many got each status, and how long each took from its head's arrival to
// the end of its answer leaving for the client, as a Prometheus histogram.
// The event loops add to it without locks. It is made on first use, so a
// proxy that never carried an HTTP toxic pays one pointer.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "engine/Clock.h"

namespace faultline {

class HttpRequestStats {
 public:
  // Upper bounds of the histogram's buckets, in seconds (+Inf is the count).
  static constexpr std::array<double, 12> kBounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static constexpr int kFirstStatus = 100, kLastStatus = 599;

  struct PerStatus {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> nanos{0};
    std::array<std::atomic<uint64_t>, kBounds.size()> buckets{};  // cumulative, as Prometheus wants them
  };

  void record(int status, Nanos duration) {
    if (status < kFirstStatus || status > kLastStatus) return;
    PerStatus& s = by_status_[static_cast<size_t>(status - kFirstStatus)];
    const double seconds = static_cast<double>(duration.count()) / 1e9;
    s.count.fetch_add(1, std::memory_order_relaxed);
    s.nanos.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, duration.count())), std::memory_order_relaxed);
    for (size_t i = 0; i < kBounds.size(); ++i)
      if (seconds <= kBounds[i]) s.buckets[i].fetch_add(1, std::memory_order_relaxed);
  }
  const PerStatus& status(int code) const { return by_status_[static_cast<size_t>(code - kFirstStatus)]; }

 private:
  std::array<PerStatus, kLastStatus - kFirstStatus + 1> by_status_{};
};

// A proxy's HttpRequestStats, made by the first loop that needs it.
class LazyHttpRequestStats {
 public:
  ~LazyHttpRequestStats() { delete stats_.load(); }
  HttpRequestStats& get() {
    HttpRequestStats* s = stats_.load(std::memory_order_acquire);
    if (s) return *s;
    auto made = std::make_unique<HttpRequestStats>();
    if (stats_.compare_exchange_strong(s, made.get(), std::memory_order_acq_rel)) return *made.release();
    return *s;  // another loop made it first
  }
  const HttpRequestStats* find() const { return stats_.load(std::memory_order_acquire); }

 private:
  std::atomic<HttpRequestStats*> stats_{nullptr};
};

}  // namespace faultline
