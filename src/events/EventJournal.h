#pragma once
// The last N control events, in memory, for the event stream. Publishing
// never waits for a reader: each reader keeps its own cursor (the last id it
// saw) and asks for what came after it; a reader that fell so far behind
// that the events it wanted were overwritten is told how many it missed.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "events/ControlEvent.h"

namespace faultline {

class EventJournal {
 public:
  static constexpr size_t kDefaultCapacity = 10000;
  explicit EventJournal(size_t capacity = kDefaultCapacity);

  // Stamps the event with the next id and the wall clock; returns the id.
  uint64_t publish(std::string type, std::string proxy, std::string fields = "");

  struct Page {
    std::vector<ControlEvent> events;  // ids after the cursor, oldest first
    uint64_t dropped = 0;              // events after the cursor that are no longer kept
    uint64_t last_id = 0;              // the cursor for the next call
  };
  // At most `limit` events with an id greater than `after`.
  Page read_after(uint64_t after, size_t limit) const;
  uint64_t last_id() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<ControlEvent> events_;
  uint64_t next_id_ = 1;
};

}  // namespace faultline
