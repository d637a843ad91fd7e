// reset_peer: `timeout` ms after the toxic took effect on a connection, idle
// or not, both sockets are closed with an RST, so the peers see "connection
// reset by peer" (D5). Until then the direction's data is swallowed, as in
// Toxiproxy. A connection the toxic does not apply to is never touched.
#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class ResetPeerStage final : public ToxicStage {
 public:
  ResetPeerStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] {
      owner().chaos_event("reset sent", this->config());
      owner().close_connection(true);
    });
  }
  ~ResetPeerStage() override { timers().cancel(timer_); }

  void start() override {
    started_at_ = loop().now();
    arm();
  }
  void reconfigured() override { arm(); }
  void on_chunk(Chunk) override {}  // swallowed
  void stop() override { timers().cancel(timer_); }

 private:
  void arm() {
    const int64_t timeout = std::max<int64_t>(0, spec().attribute("timeout"));
    timers().arm(timer_, started_at_ + Millis(timeout));
  }

  TimePoint started_at_{};
  Timer timer_;
};

}  // namespace

std::unique_ptr<ToxicStage> make_reset_peer_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<ResetPeerStage>(chain, std::move(config));
}

}  // namespace faultline
