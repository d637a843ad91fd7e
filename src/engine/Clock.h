#pragma once
// Time for everything that waits: event loops, timers, toxic stages, the
// control plane. Code asks a TimeSource instead of the system clock, so tests
// can run a toxic stage (or, next, a schedule) against a ManualClock and move
// time forward by hand, without sleeping.
#include <atomic>
#include <chrono>

namespace faultline {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Nanos = std::chrono::nanoseconds;
using Micros = std::chrono::microseconds;
using Millis = std::chrono::milliseconds;

class TimeSource {
 public:
  virtual TimePoint now() const = 0;       // monotonic: for durations and deadlines
  virtual WallTime wall_now() const = 0;   // calendar time: for logs, journals, reports

 protected:
  ~TimeSource() = default;
};

// The real clocks.
class SystemTime final : public TimeSource {
 public:
  TimePoint now() const override { return Clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

inline const TimeSource& system_time() {
  static const SystemTime clock;
  return clock;
}

// A clock that moves only when told to. Readable from any thread.
class ManualClock final : public TimeSource {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::hours(1)),
                       WallTime wall_start = WallTime(std::chrono::seconds(1'800'000'000)))
      : monotonic_(start.time_since_epoch().count()), wall_offset_(wall_start - WallTime()) {}
  TimePoint now() const override { return TimePoint(Nanos(monotonic_.load())); }
  WallTime wall_now() const override {
    return WallTime() + std::chrono::duration_cast<WallTime::duration>(wall_offset_ + (now() - start_));
  }
  void advance(Nanos by) { monotonic_ += by.count(); }

 private:
  std::atomic<Nanos::rep> monotonic_;
  WallTime::duration wall_offset_;
  TimePoint start_ = now_at_construction();
  TimePoint now_at_construction() const { return TimePoint(Nanos(monotonic_.load())); }
};

}  // namespace faultline
