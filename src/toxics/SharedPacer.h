#pragma once
// One rate for many connections on many event loops (bandwidth with
// scope "proxy"). A connection asks for a slot for its next piece and gets
// the time it may send it; slots are handed out one after another, so the
// proxy as a whole never goes faster than the rate, and a connection that
// asks again only after sending gets in line behind the others: connections
// with data to send share the rate evenly. No loop waits on another: each
// arms its own timer for its slot.
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "engine/Clock.h"

namespace faultline {

struct PacerSlot {
  TimePoint start{};  // when the piece may go
  TimePoint end{};    // when the next piece of anyone may go
};

class SharedPacer {
 public:
  // A slot for `bytes` at `rate` bytes per millisecond (> 0). After an idle
  // spell up to `burst_bytes` go at once.
  PacerSlot reserve(size_t bytes, int64_t rate, int64_t burst_bytes, TimePoint now);
  // A slot that will not be used (its connection closed, or the rate
  // changed): the time is given back when no slot was handed out after it.
  void give_back(const PacerSlot& slot);

 private:
  std::mutex mutex_;
  TimePoint next_free_{};
};

}  // namespace faultline
