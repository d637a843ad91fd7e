// limit_data: lets exactly `bytes` bytes through in its direction on each
// connection (the count survives updates of the toxic), then closes the
// connection once those bytes are written.
#include "toxics/ToxicStages.h"

namespace faultline {
namespace {

class LimitDataStage final : public ToxicStage {
 public:
  using ToxicStage::ToxicStage;

  void on_chunk(Chunk chunk) override {
    const int64_t limit = std::max<int64_t>(0, spec().attribute("bytes"));
    const int64_t room = limit - passed_;
    if (room <= 0) {
      owner().chaos_event("data limit reached", config());
      owner().close_after_output_written();
      return;
    }
    if (static_cast<int64_t>(chunk.length) >= room) {
      chunk.length = static_cast<size_t>(room);
      passed_ += room;
      pass(std::move(chunk));
      owner().chaos_event("data limit reached", config());
      owner().close_after_output_written();
      return;
    }
    passed_ += static_cast<int64_t>(chunk.length);
    pass(std::move(chunk));
  }

 private:
  int64_t passed_ = 0;
};

}  // namespace

std::unique_ptr<ToxicStage> make_limit_data_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<LimitDataStage>(chain, std::move(config));
}

}  // namespace faultline
