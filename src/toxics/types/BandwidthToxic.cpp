// bandwidth: paces the direction to `rate` KB/s (1 KB = 1000 bytes, so the
// rate is also bytes per millisecond). A piece is sent, then the next waits
// for the time the piece is worth at that rate. Rate 0 holds everything
// until the toxic goes away (D7).
//
// scope "connection" (Toxiproxy's) gives every connection the whole rate;
// scope "proxy" shares it between all the proxy's connections on every
// loop through one SharedPacer: pieces are small (10 ms of data) so the
// connections take turns often. `burst` lets that many KB go at once after
// an idle spell, as a token bucket of that depth would.
#include <algorithm>
#include <memory>
#include <optional>

#include "toxics/AttributeRanges.h"
#include "toxics/HoldingStage.h"
#include "toxics/SharedPacer.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kRate{0, "rate"};
constexpr EnumKey kScope{1, "scope"};
constexpr IntegerKey kBurst{2, "burst"};

class BandwidthStage final : public HoldingStage {
 public:
  using HoldingStage::HoldingStage;
  ~BandwidthStage() override { give_back_slot(); }

  void on_chunk(Chunk chunk) override {
    hold(std::move(chunk));
    if (!wake_pending()) send_due();
  }

  void reconfigured() override {
    cancel_wake();
    give_back_slot();  // the rate, scope or burst may have changed
    next_send_ = now();
    send_due();
  }

  void stop() override {
    give_back_slot();
    HoldingStage::stop();
  }

 private:
  int64_t rate() const { return attribute(kRate); }  // bytes per millisecond
  int64_t burst_bytes() const { return attribute(kBurst) * 1000; }
  bool proxy_wide() const { return attribute(kScope) == "proxy"; }

  void on_timer() override { send_due(); }

  void send_due() {
    if (rate() <= 0) return;  // held until the toxic changes or goes away
    const bool released = proxy_wide() ? send_shared() : send_own();
    if (released) context().chain_released();
    if (!holding()) pass_eof_if_drained();
  }

  // This connection alone at the rate. Returns whether anything was sent.
  bool send_own() {
    const TimePoint now = this->now();
    // An idle link earns credit for the burst only: pacing restarts from
    // now, less what the burst is worth.
    const TimePoint earliest = now - Nanos(burst_bytes() * 1'000'000 / rate());
    if (next_send_ < earliest - Millis(1)) next_send_ = earliest;
    const size_t max_piece = static_cast<size_t>(rate()) * 100;  // 100 ms worth
    bool released = false;
    while (holding() && next_send_ <= now) {
      const size_t n = std::min(front_length(), max_piece);
      // Cumulative pacing: rounding never drifts, bursts never exceed one piece.
      next_send_ += Nanos(static_cast<int64_t>(n) * 1'000'000 / rate());
      release(n);
      released = true;
    }
    if (holding()) wake_at(next_send_);
    return released;
  }

  // A turn of the proxy's shared rate at a time. Returns whether anything was sent.
  bool send_shared() {
    if (!pacer_) pacer_ = config().proxy_wide->get<SharedPacer>();
    const TimePoint now = this->now();
    const size_t quantum = std::max<size_t>(1, static_cast<size_t>(rate()) * 10);  // 10 ms worth
    bool released = false;
    while (holding()) {
      if (!slot_) {
        slot_n_ = std::min(front_length(), quantum);
        slot_ = pacer_->reserve(slot_n_, rate(), burst_bytes(), now);
      }
      if (slot_->start > now) {
        wake_at(slot_->start);
        break;
      }
      slot_.reset();
      release(slot_n_);
      released = true;
    }
    return released;
  }

  void give_back_slot() {
    if (slot_ && pacer_) pacer_->give_back(*slot_);
    slot_.reset();
  }

  TimePoint next_send_{};
  // scope "proxy": the pace shared with the other connections, and this
  // connection's place in it (for the first `slot_n_` held bytes).
  std::shared_ptr<SharedPacer> pacer_;
  std::optional<PacerSlot> slot_;
  size_t slot_n_ = 0;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(BandwidthToxic) {
  ToxicType type = ToxicType::define("bandwidth", "BandwidthToxic", "Paces the data to a rate in KB/s; rate 0 holds everything.");
  // 100 GB/s is far above what a proxy moves; the pacing arithmetic
  // (bytes * 10^6 / rate, rate * 100) stays exact well past it.
  type.attribute(kRate, integer_attribute("rate", 0, 100'000'000, "KB/s",
                                          "data rate (1 KB = 1000 bytes); 0 holds all data until the toxic changes or goes"))
      .attribute(kScope, enum_attribute("scope", {"connection", "proxy"},
                                        "faultline: connection gives each connection the rate; proxy shares it fairly between "
                                        "all the proxy's connections"))
      .attribute(kBurst, integer_attribute("burst", 0, 100'000'000, "KB",
                                           "faultline: how much may go at once after an idle spell (a token bucket's depth)"));
  type.attributes[1].extension = type.attributes[2].extension = true;
  return type.stage<BandwidthStage>();
}

}  // namespace faultline
