// An HTTP toxic between a hostile client and a hostile upstream. The first
// byte picks the toxic (http_error, a delay either way, each abort, a slow
// body, a rewrite, header control); the rest is a sequence of pieces, each
// for one direction (requests or responses), fed to the two halves of one
// connection, with the clock moved on a little after each. Whatever the
// bytes — broken heads, huge chunk sizes, a 101 then garbage, answers before
// requests, control fields with nonsense values — the stages must not crash;
// http_error, which holds nothing but heads, must not hold more than the
// head limit; and removing the toxic must let go of everything. The glob
// matcher gets the same bytes as pattern and text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "StageHarness.h"
#include "toxics/http/HttpFraming.h"
#include "toxics/http/RequestMatch.h"

using namespace faultline;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kToxics[] = {
      R"({"type":"http_error","toxicity":0.5,"attributes":{"path":"/a*","status":503}})",
      R"({"type":"http_delay","toxicity":0.5,"attributes":{"delay":3,"jitter":2}})",
      R"({"type":"http_delay","attributes":{"delay":2,"at":"response","path":"/a*"}})",
      R"({"type":"http_abort","toxicity":0.3,"attributes":{"at":"before_request"}})",
      R"({"type":"http_abort","toxicity":0.5,"attributes":{"at":"after_request","mode":"close"}})",
      R"({"type":"http_abort","attributes":{"at":"mid_response","after_bytes":5,"path":"/a*"}})",
      R"({"type":"http_slow_body","attributes":{"rate":2000}})",
      R"({"type":"http_rewrite","attributes":{"status":500,"set_headers":{"X":"1"},"remove_headers":["content-length"]}})",
      R"({"type":"http_header_control","attributes":{"max_delay":5}})",
  };
  if (size == 0) return 0;
  const size_t choice = data[0] % (sizeof kToxics / sizeof kToxics[0]);
  const bool only_heads_held = choice == 0;
  testing::StageHarness requests(Direction::Upstream);
  testing::StageHarness responses(Direction::Downstream);
  responses.shared_with = &requests.shared;
  const auto toxic = requests.add(kToxics[choice]);
  responses.add_existing(toxic);
  // Each piece: one byte (bit 0: which direction, bits 1-7: length 1..128), then its bytes.
  size_t at = 1;
  while (at < size) {
    const uint8_t control = data[at++];
    const size_t n = std::min<size_t>(1 + (control >> 1), size - at);
    const std::string piece(reinterpret_cast<const char*>(data + at), n);
    at += n;
    testing::StageHarness& side = (control & 1) ? responses : requests;
    side.send(piece);
    if (only_heads_held && side.chain.held_bytes() > http::HttpFraming::kHeadLimit + 256) __builtin_trap();
    requests.advance(Millis(control & 3));
    responses.advance(Millis(control & 3));
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
