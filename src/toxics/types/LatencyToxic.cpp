// latency: every chunk leaves `latency` ms (± `jitter`) after it reached this
// toxic. Chunks are pipelined (each is timed from its own arrival) and never
// reordered: a chunk whose draw would let it overtake the one before waits for it.
// faultline adds `distribution` (jitter as the deviation of a normal, Pareto
// or Pareto-normal draw; uniform is Toxiproxy's) and `correlation`, both
// shown in the JSON only when set (LatencyDistribution.h).
#include <cmath>
#include <deque>

#include "toxics/AttributeRanges.h"
#include "toxics/LatencyDistribution.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kLatency{0, "latency"};
constexpr IntegerKey kJitter{1, "jitter"};
constexpr EnumKey kDistribution{2, "distribution"};
constexpr NumberKey kCorrelation{3, "correlation"};

class LatencyStage final : public ToxicStage {
 public:
  LatencyStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] { release_due(); });
  }

  void on_chunk(Chunk chunk) override {
    const TimePoint now = this->now();
    Held held{std::move(chunk), now, draw_jitter()};
    held_bytes_ += held.chunk.length;
    queue_.push_back(std::move(held));
    if (queue_.size() == 1) schedule();
  }

  void on_eof() override {
    if (queue_.empty()) pass_eof();
    else eof_pending_ = true;
  }

  void reconfigured() override {
    if (!queue_.empty()) schedule();  // release times follow the new values
  }

  void stop() override {
    timers().cancel(timer_);
    while (!queue_.empty()) pop_and_pass();
    if (eof_pending_) {
      eof_pending_ = false;
      pass_eof();
    }
  }

  size_t held_bytes() const override { return held_bytes_; }
  ~LatencyStage() override { timers().cancel(timer_); }

 private:
  struct Held {
    Chunk chunk;
    TimePoint received;
    Nanos jitter;
  };

  Nanos draw_jitter() {
    return distribution_.jitter(attribute(kJitter), latency_shape(attribute(kDistribution)), attribute(kCorrelation), rng());
  }

  TimePoint release_time(const Held& h) const {
    const Nanos delay = Millis(attribute(kLatency)) + h.jitter;
    return delay > Nanos(0) ? h.received + delay : h.received;
  }

  void schedule() {
    // Order is kept, so only the head's time matters.
    timers().arm(timer_, std::max(release_time(queue_.front()), last_release_));
  }

  void pop_and_pass() {
    Held h = std::move(queue_.front());
    queue_.pop_front();
    held_bytes_ -= h.chunk.length;
    pass(std::move(h.chunk));
    context().chain_released();
  }

  void release_due() {
    const TimePoint now = this->now();
    while (!queue_.empty() && std::max(release_time(queue_.front()), last_release_) <= now) {
      last_release_ = std::max(release_time(queue_.front()), last_release_);
      pop_and_pass();
    }
    if (!queue_.empty()) schedule();
    else if (eof_pending_) {
      eof_pending_ = false;
      pass_eof();
    }
  }

  LatencyDistribution distribution_;
  std::deque<Held> queue_;
  size_t held_bytes_ = 0;
  bool eof_pending_ = false;
  TimePoint last_release_{};
  Timer timer_;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(LatencyToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("latency", "LatencyToxic", "Delays every chunk of data by latency ± jitter, keeping their order.");
  type.attribute(kLatency, integer_attribute("latency", -kYearMs, kYearMs, "ms", "delay added to every chunk of data"))
      .attribute(kJitter, integer_attribute("jitter", -kYearMs, kYearMs, "ms",
                                            "random spread: each chunk gets latency plus a value drawn uniformly from [-jitter, +jitter)"));
  for (auto& a : type.attributes) a.negative = kNoneWhenNegative;
  type.attribute(kDistribution, enum_attribute("distribution", {"uniform", "normal", "pareto", "paretonormal"},
                                               "faultline: how jitter spreads; other than uniform, jitter is the standard deviation"))
      .attribute(kCorrelation, number_attribute("correlation", 0, 1, "faultline: how much each draw follows the one before (0: independent)"));
  type.attributes[2].extension = type.attributes[3].extension = true;
  return type.stage<LatencyStage>();
}

}  // namespace faultline
