// bandwidth: paces the direction to `rate` KB/s (1 KB = 1000 bytes, so the
// rate is also bytes per millisecond). A piece is sent, then the next waits
// for the time the piece is worth at that rate; pieces are at most 100 ms of
// data. Rate 0 holds everything until the toxic goes away (D7).
#include "toxics/HoldingStage.h"
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kRate{0, "rate"};

class BandwidthStage final : public HoldingStage {
 public:
  using HoldingStage::HoldingStage;

  void on_chunk(Chunk chunk) override {
    hold(std::move(chunk));
    if (!wake_pending()) send_due();
  }

  void reconfigured() override {
    cancel_wake();
    next_send_ = now();
    send_due();
  }

 private:
  int64_t rate() const { return attribute(kRate); }  // bytes per millisecond

  void on_timer() override { send_due(); }

  void send_due() {
    if (rate() <= 0) return;  // held until the toxic changes or goes away
    const TimePoint now = this->now();
    // An idle link earns no credit: pacing restarts from now.
    if (next_send_ < now - Millis(1)) next_send_ = now;
    const size_t max_piece = static_cast<size_t>(rate()) * 100;  // 100 ms worth
    bool released = false;
    while (holding() && next_send_ <= now) {
      const size_t n = std::min(front_length(), max_piece);
      // Cumulative pacing: rounding never drifts, bursts never exceed one piece.
      next_send_ += Nanos(static_cast<int64_t>(n) * 1'000'000 / rate());
      release(n);
      released = true;
    }
    if (released) context().chain_released();
    if (holding()) wake_at(next_send_);
    else pass_eof_if_drained();
  }

  TimePoint next_send_{};
};

}  // namespace

FAULTLINE_TOXIC_TYPE(BandwidthToxic) {
  ToxicType type = ToxicType::define("bandwidth", "BandwidthToxic", "Paces the data to a rate in KB/s; rate 0 holds everything.");
  // 100 GB/s is far above what a proxy moves; the pacing arithmetic
  // (bytes * 10^6 / rate, rate * 100) stays exact well past it.
  type.attribute(kRate, integer_attribute("rate", 0, 100'000'000, "KB/s",
                                          "data rate (1 KB = 1000 bytes); 0 holds all data until the toxic changes or goes"));
  return type.stage<BandwidthStage>();
}

}  // namespace faultline
