// corrupt: flips one random bit of a byte, each byte with probability `rate`
// (or, with `per_chunk`, one byte of each chunk with that probability). The
// stream keeps its length and order; checksums and parsers downstream are
// what is tested. Draws come from the connection's seeded generator, so
// `-seed` replays the same corruption; each corrupted chunk is a chaos event
// with the stream offsets it changed.
#include <cmath>

#include <fmt/format.h>

#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr NumberKey kRate{0, "rate"};
constexpr IntegerKey kPerChunk{1, "per_chunk"};

class CorruptStage final : public ToxicStage {
 public:
  using ToxicStage::ToxicStage;

  void start() override { skip_ = next_skip(); }
  void reconfigured() override { skip_ = next_skip(); }

  void on_chunk(Chunk chunk) override {
    const uint64_t start = offset_;
    offset_ += chunk.length;
    if (attribute(kPerChunk) != 0) {
      if (chunk.length > 0 && rng().unit() < attribute(kRate)) flip(chunk, rng().below(chunk.length), start);
    } else {
      // Geometric gaps between corrupted bytes: one draw per corruption, not per byte.
      size_t at = 0;
      while (skip_ < chunk.length - at) {
        at += skip_;
        flip(chunk, at, start);
        ++at;
        skip_ = next_skip();
      }
      if (skip_ != kNever) skip_ -= chunk.length - at;
    }
    report(start);
    pass(std::move(chunk));
  }

 private:
  static constexpr uint64_t kNever = UINT64_MAX;

  // How many clean bytes come before the next corrupted one.
  uint64_t next_skip() {
    const double rate = attribute(kRate);
    if (rate <= 0 || attribute(kPerChunk) != 0) return kNever;
    if (rate >= 1) return 0;
    const double u = 1.0 - rng().unit();  // (0, 1]
    const double gap = std::floor(std::log(u) / std::log1p(-rate));
    return gap >= 9e18 ? kNever : static_cast<uint64_t>(gap);
  }

  void flip(Chunk& chunk, size_t at, uint64_t chunk_start) {
    if (!writable_) {
      context().make_writable(chunk);
      writable_ = true;
    }
    chunk.buffer.data()[chunk.offset + at] ^= static_cast<char>(1u << rng().below(8));
    if (offsets_.size() < 8) offsets_.push_back(chunk_start + at);
    ++flipped_;
  }

  // One event per chunk it changed, naming the first offsets.
  void report(uint64_t chunk_start) {
    writable_ = false;
    if (flipped_ == 0) return;
    std::string detail = fmt::format("{} byte(s) from offset {}: {}", flipped_, chunk_start, fmt::join(offsets_, ","));
    event(ChaosEventKind::DataCorrupted, detail);
    offsets_.clear();
    flipped_ = 0;
  }

  uint64_t offset_ = 0;  // bytes of this direction seen so far
  uint64_t skip_ = kNever;
  bool writable_ = false;
  std::vector<uint64_t> offsets_;
  size_t flipped_ = 0;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(CorruptToxic) {
  ToxicType type = ToxicType::define("corrupt", "CorruptToxic",
                                     "Flips a random bit in bytes chosen at random (rate per byte, or per chunk); length and order kept.");
  type.attribute(kRate, number_attribute("rate", 0, 1, "probability that a byte (or, with per_chunk, a chunk) is corrupted"))
      .attribute(kPerChunk, integer_attribute("per_chunk", 0, 1, "", "1: rate applies per chunk, one byte of a chosen chunk flipped"));
  type.attributes[0].default_value = 0.001;
  return type.stage<CorruptStage>();
}

}  // namespace faultline
