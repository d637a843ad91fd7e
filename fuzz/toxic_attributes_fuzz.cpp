// Toxic attributes: any value the validation accepts must be one the
// toxic's arithmetic survives. The input picks a type, a toxicity and every
// attribute; accepted combinations are then run for real: a chain with that
// toxic gets chunks and an end of stream, the timers that are due are fired,
// and the toxic is removed, which must release everything. UBSan reports
// any overflow; libFuzzer's timeout catches a spin.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "StageHarness.h"
#include "model/ToxicType.h"

namespace {

using namespace faultline;

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <class T>
  T take() {
    T value{};
    const size_t n = std::min(sizeof value, size_ - at_);
    std::memcpy(&value, data_ + at_, n);
    at_ += n;
    return value;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const auto types = all_toxic_types();
  const ToxicType& type = types[in.take<uint8_t>() % types.size()];
  auto config = std::make_shared<ToxicConfig>();
  config->id = 1;
  config->spec = default_toxic_spec(type);
  config->spec.name = "fuzzed";
  config->spec.toxicity = static_cast<float>(in.take<uint8_t>() % 3) / 2.0f;  // 0, 0.5, 1
  for (size_t i = 0; i < type.attributes.size(); ++i) {
    const AttributeSchema& attribute = type.attributes[i];
    if (!std::holds_alternative<int64_t>(attribute.default_value)) continue;  // numbers only here
    int64_t value = in.take<int64_t>();
    if (in.take<uint8_t>() & 1) value %= 100000;  // small values too, not only huge ones
    config->spec.attributes[i] = value;
    if (attribute.check(type.name, config->spec.attributes[i])) return 0;  // refused: fine
  }

  bool leaked_timer = false;
  {
    testing::StageHarness h;
    h.chain.apply({config});
    const int chunks = in.take<uint8_t>() % 8;
    for (int i = 0; i < chunks && !h.closed && !h.closed_after_output; ++i) {
      const size_t length = 1 + in.take<uint16_t>() % 4096;
      h.chain.push(Chunk{h.buffers.take(), 0, length, h.now()});
      if (in.take<uint8_t>() & 1) h.drain_output();
    }
    if (!h.closed) h.end();
    // Moves time in large leaps, firing what falls due, a bounded number of
    // rounds: deadlines a year away are reached without waiting a year.
    for (int round = 0; round < 200 && !h.timer_queue.empty(); ++round) {
      const Nanos gap = h.timer_queue.next_deadline() - h.now();
      h.clock.advance(std::max<Nanos>(gap, Nanos(1)));
      h.timer_queue.run_due(h.now());
      h.drain_output();
    }
    h.chain.apply({});  // removal lets go of whatever is still held
    leaked_timer = !h.timer_queue.empty();
  }
  if (leaked_timer) std::abort();  // a removed toxic left a timer behind
  return 0;
}
