#include "toxics/SharedPacer.h"

#include <algorithm>

namespace faultline {

namespace {
// The time `bytes` take at `rate` bytes per millisecond, to the nanosecond.
Nanos duration_of(int64_t bytes, int64_t rate) { return Nanos(bytes * 1'000'000 / rate); }
}  // namespace

PacerSlot SharedPacer::reserve(size_t bytes, int64_t rate, int64_t burst_bytes, TimePoint now) {
  std::lock_guard lock(mutex_);
  // Idle time earns credit for at most `burst_bytes`. A pace up to 1 ms
  // behind is a loop that woke late, not an idle one: it is caught up, or a
  // busy machine would fall short of the rate.
  const TimePoint earliest = now - duration_of(burst_bytes, rate);
  PacerSlot slot;
  slot.start = next_free_ < earliest - Millis(1) ? earliest : next_free_;
  slot.end = slot.start + duration_of(static_cast<int64_t>(bytes), rate);
  next_free_ = slot.end;
  return slot;
}

void SharedPacer::give_back(const PacerSlot& slot) {
  std::lock_guard lock(mutex_);
  if (next_free_ == slot.end) next_free_ = slot.start;
}

}  // namespace faultline
