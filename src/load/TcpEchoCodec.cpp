// tcp://: each request is --payload bytes, different every time (a sequence
// number and a pattern), and the reply must be exactly those bytes back.
#include <cstring>

#include "load/Codec.h"
#include "load/LoadTarget.h"

namespace faultline::load {
namespace {

class TcpEchoCodec final : public Codec {
 public:
  TcpEchoCodec(size_t payload, uint64_t seed) : payload_(payload), sequence_(splitmix64(seed)) {}

  size_t next_request(std::string& out) override {
    ++sequence_;
    out.resize(payload_);
    for (size_t i = 0; i < payload_; ++i) out[i] = static_cast<char>('a' + (sequence_ + i) % 26);
    std::memcpy(out.data(), &sequence_, std::min(payload_, sizeof sequence_));
    expect(out);
    return 0;
  }

  void expect(std::string_view request) override {
    sent_ = request;
    checked_ = 0;
  }

  ReplyCheck check_reply(std::string_view received) override {
    ReplyCheck r;
    // Only the bytes that came since the last call are compared: a large
    // echo arrives in many reads.
    const size_t n = std::min(received.size(), sent_.size());
    if (n > checked_ && std::memcmp(received.data() + checked_, sent_.data() + checked_, n - checked_) != 0) {
      r.state = ReplyState::Mismatch;
      r.problem = "the echo differs from what was sent";
      return r;
    }
    checked_ = n;
    if (received.size() < sent_.size()) return r;
    r.state = ReplyState::Complete;
    r.consumed = sent_.size();
    checked_ = 0;  // the reply is done: anything checked again is looked at afresh
    return r;
  }

 private:
  size_t payload_;
  uint64_t sequence_;
  std::string sent_;
  size_t checked_ = 0;  // bytes of this reply already compared
};

}  // namespace

std::unique_ptr<Codec> make_tcp_echo_codec(const TargetSpec& target, uint64_t seed) {
  return std::make_unique<TcpEchoCodec>(target.options.payload, seed);
}

}  // namespace faultline::load
