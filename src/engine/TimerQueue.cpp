#include "engine/TimerQueue.h"

#include <utility>

namespace faultline {

Timer::~Timer() {
  if (armed()) queue_->cancel(*this);
}

TimerQueue::~TimerQueue() {
  for (Timer* t : heap_) {
    t->heap_index_ = Timer::kNotArmed;
    t->queue_ = nullptr;
  }
}

void TimerQueue::arm(Timer& timer, TimePoint deadline) {
  if (timer.armed() && timer.queue_ != this) timer.queue_->cancel(timer);
  if (timer.armed()) {
    const bool earlier = deadline < timer.deadline_;
    timer.deadline_ = deadline;
    if (earlier) sift_up(timer.heap_index_);
    else sift_down(timer.heap_index_);
    return;
  }
  timer.deadline_ = deadline;
  timer.queue_ = this;
  timer.heap_index_ = heap_.size();
  heap_.push_back(&timer);
  sift_up(timer.heap_index_);
}

void TimerQueue::cancel(Timer& timer) {
  if (timer.armed() && timer.queue_ == this) remove_at(timer.heap_index_);
}

void TimerQueue::run_due(TimePoint now) {
  while (!heap_.empty() && heap_.front()->deadline_ <= now) {
    Timer* t = heap_.front();
    remove_at(0);
    if (t->callback_) t->callback_();
  }
}

void TimerQueue::swap_entries(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a]->heap_index_ = a;
  heap_[b]->heap_index_ = b;
}

void TimerQueue::sift_up(size_t i) {
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!before(i, parent)) break;
    swap_entries(i, parent);
    i = parent;
  }
}

void TimerQueue::sift_down(size_t i) {
  const size_t n = heap_.size();
  for (;;) {
    const size_t left = 2 * i + 1;
    const size_t right = left + 1;
    size_t smallest = i;
    if (left < n && before(left, smallest)) smallest = left;
    if (right < n && before(right, smallest)) smallest = right;
    if (smallest == i) break;
    swap_entries(i, smallest);
    i = smallest;
  }
}

void TimerQueue::remove_at(size_t i) {
  Timer* removed = heap_[i];
  const size_t last = heap_.size() - 1;
  if (i != last) {
    swap_entries(i, last);
    heap_.pop_back();
    sift_down(i);
    sift_up(i);
  } else {
    heap_.pop_back();
  }
  removed->heap_index_ = Timer::kNotArmed;
  removed->queue_ = nullptr;
}

}  // namespace faultline
