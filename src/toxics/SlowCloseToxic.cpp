// slow_close: data passes untouched; the end of the stream (EOF) is passed on
// `delay` ms after the source ended.
#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class SlowCloseStage final : public ToxicStage {
 public:
  SlowCloseStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] { pass_eof(); });
  }
  ~SlowCloseStage() override { timers().cancel(timer_); }

  void on_eof() override {
    const int64_t delay = spec().attribute("delay");
    if (delay <= 0) pass_eof();
    else timers().arm(timer_, loop().now() + Millis(delay));
  }

  void stop() override {
    if (!timer_.armed()) return;
    timers().cancel(timer_);
    pass_eof();
  }

 private:
  Timer timer_;
};

}  // namespace

std::unique_ptr<ToxicStage> make_slow_close_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<SlowCloseStage>(chain, std::move(config));
}

}  // namespace faultline
