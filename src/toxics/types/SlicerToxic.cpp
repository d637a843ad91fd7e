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
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kAverageSize{0, "average_size"};
constexpr IntegerKey kSizeVariation{1, "size_variation"};
constexpr IntegerKey kDelay{2, "delay"};

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
    const int64_t average = attribute(kAverageSize);
    if (average <= 0) return available;  // unsliced
    const int64_t variation = std::clamp<int64_t>(attribute(kSizeVariation), 0, average - 1);
    int64_t size = average;
    if (variation > 0) size += static_cast<int64_t>(rng().below(static_cast<uint64_t>(2 * variation + 1))) - variation;
    return std::min(available, static_cast<size_t>(std::max<int64_t>(1, size)));
  }

  // Each piece is followed by the delay (so is the last: the next chunk waits too).
  void send_due() {
    const Micros delay(std::max<int64_t>(0, attribute(kDelay)));
    const TimePoint now = this->now();
    bool released = false;
    size_t cut = 0;
    while (holding() && next_send_ <= now) {
      if (context().output_backlog() >= kMaxBacklog) break;  // output_drained() resumes
      if (delay.count() == 0 && cut == kMaxBacklog) {
        wake_at(now);  // the rest in the next round
        break;
      }
      release(next_piece(front_length()));
      released = true;
      ++cut;
      if (delay.count() > 0) next_send_ = now + delay;
    }
    if (released) context().chain_released();
    if (holding()) {
      if (next_send_ > now) wake_at(next_send_);
    } else {
      pass_eof_if_drained();
    }
  }

  TimePoint next_send_{};
};

}  // namespace

FAULTLINE_TOXIC_TYPE(SlicerToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("slicer", "SlicerToxic", "Cuts the data into small pieces sent one by one, delay us apart.");
  type.attribute(kAverageSize, integer_attribute("average_size", 0, 1LL << 30, "bytes", "mean piece size; 0 passes chunks unsliced"))
      .attribute(kSizeVariation, integer_attribute("size_variation", 0, 1LL << 30, "bytes",
                                                   "pieces vary by up to this much (kept below average_size)"))
      .attribute(kDelay, integer_attribute("delay", 0, kYearMs * 1000, "us", "pause after each piece, in microseconds (not ms)"));
  return type.stage<SlicerStage>();
}

}  // namespace faultline
