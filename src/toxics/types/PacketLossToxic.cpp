// packet_loss: what a lossy network does to a TCP stream.
//
// mode "tcp" (the default): the kernel retransmits what the network lost,
// so an application never sees missing bytes; it sees stalls. The stream is
// cut into segments of `segment_size` bytes; each is lost with probability
// `loss_rate`, in bursts when `correlation` > 0 (a two-state Gilbert model
// whose long-run loss is still loss_rate: after a loss the next segment is
// lost with probability correlation + (1 - correlation) x loss_rate, after a
// delivery with loss_rate x (1 - correlation)). A lost segment arrives one
// retransmission timeout (`rto_ms`) late, doubling while its retransmissions
// are lost too, up to `max_rto_ms`; everything behind it waits for it
// (in-order delivery) and the stalls add up, as a sender whose window is
// full waits for each repair in turn. No byte is lost, duplicated or
// reordered. Goodput is then about segment_size / (loss_rate x rto) when the
// path is otherwise fast (docs/toxics.md compares it with TCP's).
//
// mode "drop": as Toxiproxy's packet_loss, a lost segment's bytes are simply
// not delivered: the stream is corrupted on purpose (a protocol parser on
// the other end will fail), which is useful only to test that failure.
#include <algorithm>
#include <deque>

#include "toxics/AttributeRanges.h"
#include "toxics/HoldingStage.h"

namespace faultline {
namespace {

constexpr EnumKey kMode{0, "mode"};
constexpr NumberKey kLossRate{1, "loss_rate"};
constexpr NumberKey kCorrelation{2, "correlation"};
constexpr IntegerKey kSegmentSize{3, "segment_size"};
constexpr IntegerKey kRto{4, "rto_ms"};
constexpr IntegerKey kMaxRto{5, "max_rto_ms"};

class PacketLossStage final : public HoldingStage {
 public:
  using HoldingStage::HoldingStage;

  void on_chunk(Chunk chunk) override {
    if (attribute(kMode) == "drop") return drop_lost_segments(std::move(chunk));
    const TimePoint arrival = now();
    // Consecutive segments due at the same time travel as one piece.
    size_t offset = 0, piece = 0;
    TimePoint piece_due{};
    while (offset < chunk.length) {
      const size_t segment = std::min(segment_bytes(), chunk.length - offset);
      // Stalls add up: while a loss is repaired the sender's window fills and
      // nothing behind it moves, so each loss costs its own timeout.
      const TimePoint due = std::max(last_due_, arrival) + stall();
      last_due_ = due;
      if (piece > 0 && due != piece_due) {
        enqueue(chunk.split_front(piece), piece_due);
        offset -= piece;
        piece = 0;
      }
      piece_due = due;
      piece += segment;
      offset += segment;
    }
    if (piece > 0) enqueue(std::move(chunk), piece_due);
  }

  void stop() override {
    dues_.clear();
    HoldingStage::stop();
  }

 private:
  size_t segment_bytes() const { return static_cast<size_t>(attribute(kSegmentSize)); }

  // The Gilbert model's next draw: is this segment lost?
  bool lost() {
    const double p = attribute(kLossRate), c = attribute(kCorrelation);
    const double chance = last_lost_ ? c + (1 - c) * p : p * (1 - c);
    last_lost_ = rng().unit() < chance;
    return last_lost_;
  }

  // How late this segment arrives: 0, or the timeouts of its lost transmissions.
  Nanos stall() {
    if (!lost()) return Nanos(0);
    const int64_t max_rto = std::max(attribute(kRto), attribute(kMaxRto));
    int64_t rto = attribute(kRto), waited = 0;
    const double p = attribute(kLossRate), c = attribute(kCorrelation);
    for (int tries = 0;; ++tries) {
      waited += rto;
      // A retransmission is lost like a segment right after a loss; give up
      // counting after 15 (Linux's tcp_retries2), by then the wait is minutes.
      if (tries >= 15 || rng().unit() >= c + (1 - c) * p) break;
      rto = std::min(rto * 2, max_rto);
    }
    return Millis(waited);
  }

  void drop_lost_segments(Chunk chunk) {
    while (chunk.length > 0) {
      size_t kept = 0;
      while (kept < chunk.length && !lost()) kept += std::min(segment_bytes(), chunk.length - kept);
      if (kept > 0) pass(chunk.split_front(kept));
      if (chunk.length > 0) chunk.split_front(std::min(segment_bytes(), chunk.length));  // the lost one
    }
  }

  void enqueue(Chunk piece, TimePoint due) {
    if (!holding() && due <= now()) return pass(std::move(piece));
    if (!holding()) wake_at(due);
    hold(std::move(piece));
    dues_.push_back(due);
  }

  void on_timer() override {
    const TimePoint t = now();
    while (holding() && dues_.front() <= t) {
      release(front_length());
      dues_.pop_front();
    }
    context().chain_released();
    if (holding()) wake_at(dues_.front());
    else pass_eof_if_drained();
  }

  std::deque<TimePoint> dues_;  // when each held piece is due, in order
  bool last_lost_ = false;
  TimePoint last_due_{};
};

}  // namespace

FAULTLINE_TOXIC_TYPE(PacketLossToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("packet_loss", "PacketLossToxic",
                                     "Loses segments as a lossy network does: TCP sees stalls while they are retransmitted (tcp), or "
                                     "the bytes go missing (drop).");
  type.attribute(kMode, enum_attribute("mode", {"tcp", "drop"},
                                       "tcp: lost segments arrive late, the stream stays whole; drop: their bytes are never delivered"))
      .attribute(kLossRate, number_attribute("loss_rate", 0, 1, "probability that a segment is lost"))
      .attribute(kCorrelation, number_attribute("correlation", 0, 1, "burstiness: 0 independent losses; towards 1 longer bursts"))
      .attribute(kSegmentSize, integer_attribute("segment_size", 1, 65536, "bytes", "segment size (TCP's MSS on Ethernet: 1448)"))
      .attribute(kRto, integer_attribute("rto_ms", 1, 60000, "ms", "tcp: retransmission timeout of a lost segment"))
      .attribute(kMaxRto, integer_attribute("max_rto_ms", 1, 120000, "ms", "tcp: the timeout doubles per lost retransmission, up to this"));
  type.attributes[0].default_value = std::string("tcp");
  type.attributes[1].default_value = 0.01;
  type.attributes[3].default_value = int64_t{1448};
  type.attributes[4].default_value = int64_t{200};
  type.attributes[5].default_value = int64_t{60000};
  return type.stage<PacketLossStage>();
}

}  // namespace faultline
