// timeout: the direction's data is swallowed, and `timeout` ms after the toxic
// took effect on the connection the whole connection is closed, whatever the
// traffic (D4). 0 swallows forever. A connection whose data it swallowed is
// closed when the toxic is removed, since that data is gone.
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kTimeout{0, "timeout"};

class TimeoutStage final : public ToxicStage {
 public:
  TimeoutStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] {
      event(ChaosEventKind::TimeoutFired);
      context().close_connection(false);
    });
  }
  ~TimeoutStage() override { timers().cancel(timer_); }

  void start() override {
    started_at_ = now();
    arm();
  }
  void reconfigured() override { arm(); }
  void on_chunk(Chunk) override {}  // swallowed
  void stop() override {
    timers().cancel(timer_);
    context().close_connection(false);
  }

 private:
  void arm() {
    const int64_t timeout = attribute(kTimeout);
    if (timeout > 0) timers().arm(timer_, started_at_ + Millis(timeout));
    else timers().cancel(timer_);
  }

  TimePoint started_at_{};
  Timer timer_;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(TimeoutToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("timeout", "TimeoutToxic", "Swallows the data, then closes the connection after timeout ms (0: never).");
  type.attribute(kTimeout, integer_attribute("timeout", -kYearMs, kYearMs, "ms",
                                             "time from the toxic taking effect to the close; 0 swallows forever"));
  type.attributes.back().negative = kNoneWhenNegative;
  return type.stage<TimeoutStage>();
}

}  // namespace faultline
