#pragma once
// The timers of one event loop: a binary min-heap of intrusive Timer objects.
// A Timer lives inside the object that owns it (a toxic stage, a connection),
// so arming one never allocates; cancelling is O(log n).
#include <cstddef>
#include <functional>
#include <vector>

#include "engine/Clock.h"

namespace faultline {

class TimerQueue;

class Timer {
 public:
  using Callback = std::function<void()>;
  Timer() = default;
  explicit Timer(Callback cb) : callback_(std::move(cb)) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  // A timer destroyed while armed takes itself out of its queue, so the
  // queue never calls into a destroyed object, whatever its owner forgot.
  ~Timer();

  void set_callback(Callback cb) { callback_ = std::move(cb); }
  bool armed() const { return heap_index_ != kNotArmed; }
  TimePoint deadline() const { return deadline_; }

 private:
  friend class TimerQueue;
  static constexpr size_t kNotArmed = static_cast<size_t>(-1);
  Callback callback_;
  TimePoint deadline_{};
  size_t heap_index_ = kNotArmed;
  TimerQueue* queue_ = nullptr;  // while armed
};

class TimerQueue {
 public:
  ~TimerQueue();
  void arm(Timer& timer, TimePoint deadline);  // re-arms if already armed
  void cancel(Timer& timer);
  bool empty() const { return heap_.empty(); }
  TimePoint next_deadline() const { return heap_.front()->deadline_; }
  // Runs every timer due at `now`; callbacks may arm or cancel timers.
  void run_due(TimePoint now);

 private:
  bool before(size_t a, size_t b) const { return heap_[a]->deadline_ < heap_[b]->deadline_; }
  void swap_entries(size_t a, size_t b);
  void sift_up(size_t i);
  void sift_down(size_t i);
  void remove_at(size_t i);

  std::vector<Timer*> heap_;
};

}  // namespace faultline
