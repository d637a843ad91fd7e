#pragma once
// What one worker saw of one target in one 100 ms slice of the run. The
// coordinator merges the workers' records of a slice into the run's series;
// the short slices are what time to impact and time to recovery are read
// from, whatever the reporting interval.
#include <chrono>
#include <cstdint>

#include "load/ErrorClass.h"
#include "load/LatencyHistogram.h"

namespace faultline::load {

inline constexpr std::chrono::milliseconds kSlice{100};

struct IntervalRecord {
  int64_t index = 0;            // slice number since the run began (warm-up included)
  size_t target = 0;
  uint64_t ok = 0;              // replies that were right
  ErrorCounts errors{};
  int64_t oldest_pending_us = 0;  // age of the oldest unanswered request when the slice ended
  LatencyHistogram latency{2};  // of the ok replies

  uint64_t error_total() const {
    uint64_t n = 0;
    for (auto e : errors) n += e;
    return n;
  }
  void add(const IntervalRecord& other) {
    ok += other.ok;
    for (size_t i = 0; i < kErrorClasses; ++i) errors[i] += other.errors[i];
    oldest_pending_us = std::max(oldest_pending_us, other.oldest_pending_us);
    latency.add(other.latency);
  }
};

// Where workers hand their finished slices; any thread.
class IntervalSink {
 public:
  virtual void deliver(IntervalRecord&& record) = 0;

 protected:
  ~IntervalSink() = default;
};

}  // namespace faultline::load
