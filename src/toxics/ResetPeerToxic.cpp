// reset_peer: `timeout` ms after the toxic took effect on a connection, idle
// or not, both sockets are closed with an RST, so the peers see "connection
// reset by peer" (D5). Until then the direction's data is swallowed, as in
// Toxiproxy. A connection the toxic does not apply to is never touched.
// When the toxic stops acting before it fired (removed, or its toxicity set
// to 0) and it swallowed bytes meanwhile, the connection is reset then: the
// stream has a hole, and carrying on would hand the peer corrupt data.
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
  void on_chunk(Chunk chunk) override { swallowed_ += chunk.length; }
  void stop() override {
    timers().cancel(timer_);
    if (swallowed_ == 0) return;
    owner().chaos_event("reset sent on removal", this->config());
    owner().close_connection(true);
  }

 private:
  void arm() {
    const int64_t timeout = std::max<int64_t>(0, spec().attribute("timeout"));
    timers().arm(timer_, started_at_ + Millis(timeout));
  }

  TimePoint started_at_{};
  size_t swallowed_ = 0;
  Timer timer_;
};

}  // namespace

std::unique_ptr<ToxicStage> make_reset_peer_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<ResetPeerStage>(chain, std::move(config));
}

}  // namespace faultline
