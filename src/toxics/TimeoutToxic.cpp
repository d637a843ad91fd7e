// timeout: the direction's data is swallowed, and `timeout` ms after the toxic
// took effect on the connection the whole connection is closed, whatever the
// traffic (D4). 0 swallows forever. A connection whose data it swallowed is
// closed when the toxic is removed, since that data is gone.
#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class TimeoutStage final : public ToxicStage {
 public:
  TimeoutStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] {
      owner().chaos_event("timeout fired", this->config());
      owner().close_connection(false);
    });
  }
  ~TimeoutStage() override { timers().cancel(timer_); }

  void start() override {
    started_at_ = loop().now();
    arm();
  }
  void reconfigured() override { arm(); }
  void on_chunk(Chunk) override {}  // swallowed
  void stop() override {
    timers().cancel(timer_);
    owner().close_connection(false);
  }

 private:
  void arm() {
    const int64_t timeout = spec().attribute("timeout");
    if (timeout > 0) timers().arm(timer_, started_at_ + Millis(timeout));
    else timers().cancel(timer_);
  }

  TimePoint started_at_{};
  Timer timer_;
};

}  // namespace

std::unique_ptr<ToxicStage> make_timeout_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<TimeoutStage>(chain, std::move(config));
}

}  // namespace faultline
