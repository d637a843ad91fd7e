// blackhole: the direction's bytes vanish and the connection stays open
// (seed 002's "one-way communication loss"): the sender's writes succeed,
// the receiver never hears of them, and the other direction flows on. The
// sender's FIN vanishes too (a lost link carries nothing), so the receiver
// keeps waiting. Unlike `timeout` it never closes anything; removing it lets
// the bytes that come after through, but what it swallowed is gone, so a
// connection it swallowed data of is closed with an RST on removal (the
// stream has a hole).
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

class BlackholeStage final : public ToxicStage {
 public:
  using ToxicStage::ToxicStage;

  void on_chunk(Chunk) override { swallowed_ = true; }
  void on_eof() override { eof_ = true; }
  void stop() override {
    if (swallowed_) {
      event(ChaosEventKind::ResetOnRemoval);
      context().close_connection(true);
    } else if (eof_) {
      eof_ = false;
      pass_eof();  // nothing was lost but the FIN: it goes on now
    }
  }

 private:
  bool swallowed_ = false;
  bool eof_ = false;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(BlackholeToxic) {
  ToxicType type = ToxicType::define("blackhole", "BlackholeToxic",
                                     "Swallows the stream's bytes (one-way loss); the connection stays open and the other stream flows.");
  return type.stage<BlackholeStage>();
}

}  // namespace faultline
