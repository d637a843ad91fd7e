// slicer: cuts every chunk into pieces of about `average_size` bytes
// (± `size_variation`) and sends them one by one, `delay` microseconds apart.
// Bytes and their order are kept. average_size 0 passes chunks unsliced and
// size_variation is clamped below average_size (D8).
#include <deque>
#include <vector>

#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class SlicerStage final : public ToxicStage {
 public:
  SlicerStage(ToxicChain& chain, ToxicConfigPtr config) : ToxicStage(chain, std::move(config)) {
    timer_.set_callback([this] { send_due(); });
  }
  ~SlicerStage() override { timers().cancel(timer_); }

  void on_chunk(Chunk chunk) override {
    const int64_t average = spec().attribute("average_size");
    if (average <= 0) {
      enqueue(std::move(chunk));
    } else {
      std::vector<size_t> sizes;
      const int64_t variation = std::min(spec().attribute("size_variation"), average - 1);
      cut(chunk.length, static_cast<size_t>(average), static_cast<size_t>(std::max<int64_t>(0, variation)), sizes);
      for (size_t n : sizes) enqueue(chunk.split_front(n));
    }
    if (!timer_.armed()) send_due();
  }

  void on_eof() override {
    if (queue_.empty()) pass_eof();
    else eof_pending_ = true;
  }

  void stop() override {
    timers().cancel(timer_);
    while (!queue_.empty()) pop_and_pass();
    owner().chain_released();
    if (eof_pending_) {
      eof_pending_ = false;
      pass_eof();
    }
  }

  size_t held_bytes() const override { return held_bytes_; }

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

  void enqueue(Chunk piece) {
    held_bytes_ += piece.length;
    queue_.push_back(std::move(piece));
  }

  void pop_and_pass() {
    Chunk piece = std::move(queue_.front());
    queue_.pop_front();
    held_bytes_ -= piece.length;
    pass(std::move(piece));
  }

  void send_due() {
    const Micros delay(std::max<int64_t>(0, spec().attribute("delay")));
    const TimePoint now = loop().now();
    bool released = false;
    while (!queue_.empty() && next_send_ <= now) {
      pop_and_pass();
      released = true;
      if (delay.count() > 0) next_send_ = now + delay;
    }
    if (released) owner().chain_released();
    if (!queue_.empty()) timers().arm(timer_, next_send_);
    else if (eof_pending_) {
      eof_pending_ = false;
      pass_eof();
    }
  }

  std::deque<Chunk> queue_;
  size_t held_bytes_ = 0;
  bool eof_pending_ = false;
  TimePoint next_send_{};
  Timer timer_;
};

}  // namespace

std::unique_ptr<ToxicStage> make_slicer_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<SlicerStage>(chain, std::move(config));
}

}  // namespace faultline
