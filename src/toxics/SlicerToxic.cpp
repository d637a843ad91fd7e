// slicer: cuts the data into pieces of about `average_size` bytes
// (± `size_variation`) and sends them one by one, `delay` microseconds apart.
// Bytes and their order are kept. average_size 0 passes chunks unsliced and
// size_variation is clamped below average_size (D8).
//
// Chunks are held whole and cut only when a piece is due, so memory follows
// the bytes held, not the number of pieces (a 64 KiB chunk is 65,536 pieces
// at average_size 1), and a slicer that is removed lets its data go as the
// few chunks it came in, not as thousands of one-byte writes. While many
// pieces wait to be written (a slow reader) it cuts no more.
#include <algorithm>

#include "toxics/HoldingStage.h"
#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

// Pieces that may wait to be written before the slicer pauses; also the most
// it cuts in one go when there is no delay, so other connections get a turn.
constexpr size_t kMaxBacklog = 64;

class SlicerStage final : public HoldingStage {
 public:
  using HoldingStage::HoldingStage;

  void on_chunk(Chunk chunk) override {
    hold(std::move(chunk));
    if (!wake_pending()) send_due();
  }

  void output_drained() override {
    if (holding() && !wake_pending()) send_due();
  }

 private:
  void on_timer() override { send_due(); }

  // The next piece's size: average ± variation, never more than what is left.
  size_t next_piece(size_t available) {
    const int64_t average = spec().attribute("average_size");
    if (average <= 0) return available;  // unsliced
    const int64_t variation = std::clamp<int64_t>(spec().attribute("size_variation"), 0, average - 1);
    int64_t size = average;
    if (variation > 0) size += static_cast<int64_t>(rng().below(static_cast<uint64_t>(2 * variation + 1))) - variation;
    return std::min(available, static_cast<size_t>(std::max<int64_t>(1, size)));
  }

  // Each piece is followed by the delay (so is the last: the next chunk waits too).
  void send_due() {
    const Micros delay(std::max<int64_t>(0, spec().attribute("delay")));
    const TimePoint now = loop().now();
    bool released = false;
    size_t cut = 0;
    while (holding() && next_send_ <= now) {
      if (owner().output_backlog() >= kMaxBacklog) break;  // output_drained() resumes
      if (delay.count() == 0 && cut == kMaxBacklog) {
        wake_at(now);  // the rest in the next round
        break;
      }
      release(next_piece(front_length()));
      released = true;
      ++cut;
      if (delay.count() > 0) next_send_ = now + delay;
    }
    if (released) owner().chain_released();
    if (holding()) {
      if (next_send_ > now) wake_at(next_send_);
    } else {
      pass_eof_if_drained();
    }
  }

  TimePoint next_send_{};
};

}  // namespace

std::unique_ptr<ToxicStage> make_slicer_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<SlicerStage>(chain, std::move(config));
}

}  // namespace faultline
