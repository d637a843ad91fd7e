// reset_peer: `timeout` ms after the toxic took effect on a connection, idle
// or not, both sockets are closed with an RST, so the peers see "connection
// reset by peer" (D5). Until then the direction's data is swallowed, as in
// Toxiproxy. A connection the toxic does not apply to is never touched.
// When the toxic stops acting before it fired (removed, or its toxicity set
// to 0) and it swallowed bytes meanwhile, the connection is reset then: the
// stream has a hole, and carrying on would hand the peer corrupt data.
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kTimeout{0, "timeout"};

class ResetPeerStage final : public ToxicStage {
 public:
  ResetPeerStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] {
      event(ChaosEventKind::ResetSent);
      context().close_connection(true);
    });
  }
  ~ResetPeerStage() override { timers().cancel(timer_); }

  void start() override {
    started_at_ = now();
    arm();
  }
  void reconfigured() override { arm(); }
  void on_chunk(Chunk chunk) override { swallowed_ += chunk.length; }
  void stop() override {
    timers().cancel(timer_);
    if (swallowed_ == 0) return;
    event(ChaosEventKind::ResetOnRemoval);
    context().close_connection(true);
  }

 private:
  void arm() {
    const int64_t timeout = std::max<int64_t>(0, attribute(kTimeout));
    timers().arm(timer_, started_at_ + Millis(timeout));
  }

  TimePoint started_at_{};
  size_t swallowed_ = 0;
  Timer timer_;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(ResetPeerToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("reset_peer", "ResetToxic", "Swallows the data, then resets both sides (RST) after timeout ms.");
  type.attribute(kTimeout, integer_attribute("timeout", -kYearMs, kYearMs, "ms",
                                             "time from the toxic taking effect to the reset; 0 or less resets at once"));
  type.attributes.back().negative = kNoneWhenNegative;
  return type.stage<ResetPeerStage>();
}

}  // namespace faultline
