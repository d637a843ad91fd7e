// bandwidth: paces the direction to `rate` KB/s (1 KB = 1000 bytes, so the
// rate is also bytes per millisecond). A piece is sent, then the next waits
// for the time the piece is worth at that rate; pieces are at most 100 ms of
// data. Rate 0 holds everything until the toxic goes away (D7).
#include <deque>

#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class BandwidthStage final : public ToxicStage {
 public:
  BandwidthStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] { send_due(); });
  }
  ~BandwidthStage() override { timers().cancel(timer_); }

  void on_chunk(Chunk chunk) override {
    held_bytes_ += chunk.length;
    queue_.push_back(std::move(chunk));
    if (!timer_.armed()) send_due();
  }

  void on_eof() override {
    if (queue_.empty()) pass_eof();
    else eof_pending_ = true;
  }

  void reconfigured() override {
    timers().cancel(timer_);
    next_send_ = loop().now();
    send_due();
  }

  void stop() override {
    timers().cancel(timer_);
    while (!queue_.empty()) {
      held_bytes_ -= queue_.front().length;
      pass(std::move(queue_.front()));
      queue_.pop_front();
    }
    owner().chain_released();
    finish_eof_if_drained();
  }

  size_t held_bytes() const override { return held_bytes_; }

 private:
  int64_t rate() const { return spec().attribute("rate"); }  // bytes per millisecond

  void send_due() {
    if (rate() <= 0) return;  // held until the toxic changes or goes away
    const TimePoint now = loop().now();
    // An idle link earns no credit: pacing restarts from now.
    if (next_send_ < now - Millis(1)) next_send_ = now;
    const size_t max_piece = static_cast<size_t>(rate()) * 100;  // 100 ms worth
    bool released = false;
    while (!queue_.empty() && next_send_ <= now) {
      Chunk& head = queue_.front();
      const size_t n = std::min(head.length, max_piece);
      Chunk piece = head.split_front(n);  // the head keeps the rest
      if (head.length == 0) queue_.pop_front();
      held_bytes_ -= n;
      next_send_ += Nanos(static_cast<int64_t>(n) * 1'000'000 / rate());
      pass(std::move(piece));
      released = true;
    }
    if (released) owner().chain_released();
    if (!queue_.empty()) timers().arm(timer_, next_send_);
    else finish_eof_if_drained();
  }

  void finish_eof_if_drained() {
    if (eof_pending_ && queue_.empty()) {
      eof_pending_ = false;
      pass_eof();
    }
  }

  std::deque<Chunk> queue_;
  size_t held_bytes_ = 0;
  bool eof_pending_ = false;
  TimePoint next_send_{};
  Timer timer_;
};

}  // namespace

std::unique_ptr<ToxicStage> make_bandwidth_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<BandwidthStage>(chain, std::move(config));
}

}  // namespace faultline
