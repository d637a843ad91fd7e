// limit_data: lets exactly `bytes` bytes through in its direction on each
// connection (the count survives updates of the toxic), then closes the
// connection once those bytes are written.
#include "toxics/AttributeRanges.h"
#include "toxics/ToxicChain.h"

namespace faultline {
namespace {

constexpr IntegerKey kBytes{0, "bytes"};

class LimitDataStage final : public ToxicStage {
 public:
  using ToxicStage::ToxicStage;

  void on_chunk(Chunk chunk) override {
    const int64_t limit = std::max<int64_t>(0, attribute(kBytes));
    const int64_t room = limit - passed_;
    if (room <= 0) {
      event(ChaosEventKind::DataLimitReached);
      context().close_after_output_written();
      return;
    }
    if (static_cast<int64_t>(chunk.length) >= room) {
      chunk.length = static_cast<size_t>(room);
      passed_ += room;
      pass(std::move(chunk));
      event(ChaosEventKind::DataLimitReached);
      context().close_after_output_written();
      return;
    }
    passed_ += static_cast<int64_t>(chunk.length);
    pass(std::move(chunk));
  }

 private:
  int64_t passed_ = 0;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(LimitDataToxic) {
  ToxicType type = ToxicType::define("limit_data", "LimitDataToxic", "Lets a number of bytes through per connection, then closes it.");
  // A byte count is only compared with the bytes passed so far: any value works.
  type.attribute(kBytes, integer_attribute("bytes", INT64_MIN, INT64_MAX, "bytes", "bytes let through on each connection"));
  type.attributes.back().negative = "negative acts as 0";
  return type.stage<LimitDataStage>();
}

}  // namespace faultline
