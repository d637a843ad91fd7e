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

#include "engine/BufferPool.h"
#include "engine/EventLoop.h"
#include "model/ToxicType.h"
#include "toxics/ToxicChain.h"

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

// The connection side of the chain: counts what comes out.
class Owner final : public ChainOwner {
 public:
  EventLoop& loop() override { return loop_; }
  void chain_output(Chunk chunk) override { output += chunk.length; }
  void chain_output_eof() override { eof = true; }
  void chain_released() override {}
  void close_connection(bool) override { closed = true; }
  void close_after_output_written() override { closed = true; }
  size_t output_backlog() const override { return 0; }
  uint64_t random_seed(const ToxicConfig&) override { return 42; }
  void chaos_event(std::string_view, const ToxicConfig&) override {}

  EventLoop loop_;
  size_t output = 0;
  bool eof = false;
  bool closed = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const auto types = all_toxic_types();
  const ToxicTypeInfo& type = types[in.take<uint8_t>() % types.size()];
  auto config = std::make_shared<ToxicConfig>();
  config->id = 1;
  config->spec.kind = type.kind;
  config->spec.name = "fuzzed";
  config->spec.toxicity = static_cast<float>(in.take<uint8_t>() % 3) / 2.0f;  // 0, 0.5, 1
  for (const auto& attribute : type.attributes) {
    int64_t value = in.take<int64_t>();
    if (in.take<uint8_t>() & 1) value %= 100000;  // small values too, not only huge ones
    if (check_toxic_attribute(type.kind, attribute.name, value)) return 0;  // refused: fine
    config->spec.attributes.emplace_back(std::string(attribute.name), value);
  }

  static Owner* owner = new Owner;
  static BufferPool* buffers = new BufferPool;
  owner->output = 0;
  owner->eof = owner->closed = false;
  {
    ToxicChain chain(*owner);
    chain.apply({config});
    const int chunks = in.take<uint8_t>() % 8;
    for (int i = 0; i < chunks && !owner->closed; ++i) {
      const size_t length = 1 + in.take<uint16_t>() % 4096;
      chain.push(Chunk{buffers->take(), 0, length, owner->loop_.now()});
    }
    if (!owner->closed) chain.push_eof();
    // Fire what is due now, as the loop would, a bounded number of rounds
    // (stages read the real clock, so later deadlines cannot be hurried;
    // the arithmetic that computed them has run already).
    TimerQueue& timers = owner->loop_.timers();
    for (int round = 0; round < 200 && !timers.empty(); ++round) timers.run_due(owner->loop_.now());
    chain.apply({});  // removal lets go of whatever is still held
  }
  if (!owner->loop_.timers().empty()) std::abort();  // a removed toxic left a timer behind
  return 0;
}
