// slow_close: data passes untouched; the end of the stream (EOF) is passed on
// `delay` ms after the source ended.
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kDelay{0, "delay"};

class SlowCloseStage final : public ToxicStage {
 public:
  SlowCloseStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] { pass_eof(); });
  }
  ~SlowCloseStage() override { timers().cancel(timer_); }

  void on_eof() override {
    const int64_t delay = attribute(kDelay);
    if (delay <= 0) pass_eof();
    else timers().arm(timer_, now() + Millis(delay));
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

FAULTLINE_TOXIC_TYPE(SlowCloseToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("slow_close", "SlowCloseToxic", "Passes data untouched but delays the end of the stream.");
  type.attribute(kDelay, integer_attribute("delay", -kYearMs, kYearMs, "ms", "how long after the source ended the end is passed on"));
  type.attributes.back().negative = kNoneWhenNegative;
  return type.stage<SlowCloseStage>();
}

}  // namespace faultline
