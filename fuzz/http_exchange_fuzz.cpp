// An HTTP toxic between a hostile client and a hostile upstream: the input
// is a sequence of pieces, each for one direction (requests or responses),
// fed to the two halves of one connection's http_error toxic (matching half
// the requests by path, per-request toxicity 0.5). Whatever the bytes —
// broken heads, huge chunk sizes, a 101 then garbage, answers before
// requests — the stages must neither crash nor hold more than the head
// limit, and removing the toxic must let go of everything. The glob matcher
// gets the same bytes as pattern and text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "StageHarness.h"
#include "toxics/http/HttpFraming.h"
#include "toxics/http/RequestMatch.h"

using namespace faultline;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  testing::StageHarness requests(Direction::Upstream);
  testing::StageHarness responses(Direction::Downstream);
  responses.shared_with = &requests.shared;
  const auto toxic = requests.add(R"({"type":"http_error","toxicity":0.5,"attributes":{"path":"/a*","status":503}})");
  responses.add_existing(toxic);
  // Each piece: one byte (bit 0: which direction, bits 1-7: length 1..128), then its bytes.
  size_t at = 0;
  while (at < size) {
    const uint8_t control = data[at++];
    const size_t n = std::min<size_t>(1 + (control >> 1), size - at);
    const std::string piece(reinterpret_cast<const char*>(data + at), n);
    at += n;
    testing::StageHarness& side = (control & 1) ? responses : requests;
    side.send(piece);
    if (side.chain.held_bytes() > http::HttpFraming::kHeadLimit + 256) __builtin_trap();
  }
  requests.end();
  responses.end();
  requests.remove_all();
  responses.remove_all();
  if (requests.chain.held_bytes() != 0 || responses.chain.held_bytes() != 0) __builtin_trap();

  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)http::glob_match(text.substr(0, size / 2), text.substr(size / 2));
  return 0;
}
