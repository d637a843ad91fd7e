#pragma once
// The common part of toxics that hold chunks and let them go later, in order
// (bandwidth, slicer): the queue, its byte count for backpressure, an end of
// stream that must wait behind the held bytes, one timer, and letting
// everything go at once when the toxic stops acting.
#include <deque>

#include "toxics/ToxicChain.h"

namespace faultline {

class HoldingStage : public ToxicStage {
 public:
  HoldingStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] { on_timer(); });
  }
  ~HoldingStage() override { timers().cancel(timer_); }

  void on_eof() override {
    if (queue_.empty()) pass_eof();
    else eof_pending_ = true;
  }

  void stop() override {
    timers().cancel(timer_);
    while (!queue_.empty()) release(queue_.front().length);
    context().chain_released();
    pass_eof_if_drained();
  }

  size_t held_bytes() const override { return held_bytes_; }

 protected:
  virtual void on_timer() = 0;

  void hold(Chunk chunk) {
    held_bytes_ += chunk.length;
    queue_.push_back(std::move(chunk));
  }
  bool holding() const { return !queue_.empty(); }
  size_t front_length() const { return queue_.front().length; }

  // Passes on the first `n` bytes of the oldest held chunk.
  void release(size_t n) {
    Chunk& head = queue_.front();
    Chunk piece = head.split_front(n);  // the head keeps the rest
    if (head.length == 0) queue_.pop_front();
    held_bytes_ -= n;
    pass(std::move(piece));
  }

  void pass_eof_if_drained() {
    if (eof_pending_ && queue_.empty()) {
      eof_pending_ = false;
      pass_eof();
    }
  }

  void wake_at(TimePoint when) { timers().arm(timer_, when); }
  void cancel_wake() { timers().cancel(timer_); }
  bool wake_pending() const { return timer_.armed(); }

 private:
  std::deque<Chunk> queue_;
  size_t held_bytes_ = 0;
  bool eof_pending_ = false;
  Timer timer_;
};

}  // namespace faultline
