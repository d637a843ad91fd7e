// slicer: cuts every chunk into pieces of about `average_size` bytes
// (± `size_variation`) and sends them one by one, `delay` microseconds apart.
// Bytes and their order are kept. average_size 0 passes chunks unsliced and
// size_variation is clamped below average_size (D8).
#include <vector>

#include "toxics/HoldingStage.h"
#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class SlicerStage final : public HoldingStage {
 public:
  using HoldingStage::HoldingStage;

  void on_chunk(Chunk chunk) override {
    const int64_t average = spec().attribute("average_size");
    if (average <= 0) {
      hold(std::move(chunk));
    } else {
      const int64_t variation = std::max<int64_t>(0, std::min(spec().attribute("size_variation"), average - 1));
      std::vector<size_t> sizes;
      cut(chunk.length, static_cast<size_t>(average), static_cast<size_t>(variation), sizes);
      for (size_t n : sizes) hold(chunk.split_front(n));
    }
    if (!wake_pending()) send_due();
  }

 private:
  // Splits `length` near its middle (± variation) until every piece is at
  // most average + variation bytes; pieces come out in order.
  void cut(size_t length, size_t average, size_t variation, std::vector<size_t>& out) {
    if (length <= average + variation) {
      out.push_back(length);
      return;
    }
    size_t middle = length / 2;
    if (variation > 0) {
      const size_t shift = static_cast<size_t>(rng().below(2 * variation + 1));
      middle = middle + shift >= variation ? middle + shift - variation : middle;
      middle = std::clamp<size_t>(middle, 1, length - 1);
    }
    cut(middle, average, variation, out);
    cut(length - middle, average, variation, out);
  }

  void on_timer() override { send_due(); }

  // Each piece is followed by the delay (so is the last: the next chunk waits too).
  void send_due() {
    const Micros delay(std::max<int64_t>(0, spec().attribute("delay")));
    const TimePoint now = loop().now();
    bool released = false;
    while (holding() && next_send_ <= now) {
      release(front_length());
      released = true;
      if (delay.count() > 0) next_send_ = now + delay;
    }
    if (released) owner().chain_released();
    if (holding()) wake_at(next_send_);
    else pass_eof_if_drained();
  }

  TimePoint next_send_{};
};

}  // namespace

std::unique_ptr<ToxicStage> make_slicer_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<SlicerStage>(chain, std::move(config));
}

}  // namespace faultline
