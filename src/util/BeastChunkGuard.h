#pragma once
// Works around an assertion in Boost.Beast's chunked-body parser (1.81).
// When the final chunk ("0\r\n") arrives without its closing CRLF, put()
// asks for more without consuming anything, and on the next call asserts
// that at least 5 bytes are there: "0\r\n" followed by one more byte
// ("0\r\n\r", valid so far) trips it in builds with assertions on, and the
// fuzzers found it. Calling put() again only once enough new bytes have come
// avoids it, and never holds back a message that is complete: the smallest
// thing that can follow such a stall, a final chunk with its CRLF, is 5 bytes.
#include <cstddef>

namespace faultline {

class BeastChunkGuard {
 public:
  // Whether put() may be called with `available` unconsumed bytes.
  bool may_put(size_t available) const {
    if (!starved_) return true;
    return available > last_ && (available >= 5 || available >= last_ + 2);
  }
  // What the last put() did with `available` bytes.
  void record(size_t available, size_t used, bool need_more) {
    starved_ = need_more && used == 0;
    last_ = available;
  }
  void reset() { starved_ = false, last_ = 0; }

 private:
  bool starved_ = false;
  size_t last_ = 0;
};

}  // namespace faultline
