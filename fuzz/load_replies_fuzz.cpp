// What a server sends back to `faultline load`: arbitrary bytes, split at
// arbitrary places, fed to each protocol's reply check (tcp echo, HTTP
// through Beast's parser, RESP, memcached meta) after a request of each
// kind. A hostile or broken server must get a mismatch or an incomplete
// reply, never a crash; the target, rate and mix parsers get the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "load/LoadSettings.h"
#include "load/Codec.h"
#include "load/LoadTarget.h"

namespace {

using namespace faultline::load;

const TargetSpec& target(uint8_t which) {
  static const TargetSpec specs[] = {
      parse_target("tcp://127.0.0.1:1", ProtocolOptions{}),
      parse_target("http://127.0.0.1:1/x", ProtocolOptions{}),
      parse_target("redis://127.0.0.1:1", ProtocolOptions{}),
      [] {
        ProtocolOptions o;
        o.mix = OperationMix{1, 1};
        return parse_target("redis://127.0.0.1:1", o);
      }(),
      parse_target("memcached://127.0.0.1:1,127.0.0.1:2", ProtocolOptions{}),
  };
  return specs[which % 5];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  auto codec = make_codec(target(data[0]), data[1]);
  std::string request;
  codec->next_request(request);
  // Fed in growing prefixes, as replies arrive in pieces.
  const size_t step = 1 + data[1] % 17;
  size_t consumed_total = 0;
  std::string received;
  for (size_t at = 0; at < text.size();) {
    const size_t n = std::min(step, text.size() - at);
    received.append(text, at, n);
    at += n;
    const ReplyCheck check = codec->check_reply(received);
    if (check.state == ReplyState::Mismatch) break;
    if (check.state == ReplyState::Complete) {
      if (check.consumed > received.size()) __builtin_trap();
      consumed_total += check.consumed;
      received.erase(0, check.consumed);
      codec->next_request(request);
    }
  }
  (void)consumed_total;
  // The same bytes as command-line input.
  try {
    parse_target(text, ProtocolOptions{});
  } catch (const TargetError&) {
  }
  try {
    parse_mix(text);
  } catch (const TargetError&) {
  }
  try {
    faultline::load::parse_request_rate(text);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
