#include "events/EventJournal.h"

#include <algorithm>
#include <chrono>

#include "json/JsonWriter.h"

namespace faultline {

std::string event_json(const ControlEvent& event) {
  std::string out;
  {
    json::ObjectWriter o(out);
    o.field("id", static_cast<int64_t>(event.id));
    o.field("time_us", event.time_us);
    o.field("type", event.type);
    if (!event.proxy.empty()) o.field("proxy", event.proxy);
  }
  if (!event.fields.empty()) out.insert(out.size() - 1, "," + event.fields);
  return out;
}

EventJournal::EventJournal(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

uint64_t EventJournal::publish(std::string type, std::string proxy, std::string fields) {
  const int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lock(mutex_);
  if (events_.size() == capacity_) events_.pop_front();
  events_.push_back(ControlEvent{next_id_, now_us, std::move(type), std::move(proxy), std::move(fields)});
  return next_id_++;
}

EventJournal::Page EventJournal::read_after(uint64_t after, size_t limit) const {
  std::lock_guard lock(mutex_);
  Page page;
  page.last_id = std::min(after, next_id_ - 1);
  if (events_.empty() || after >= events_.back().id) return page;
  const uint64_t oldest = events_.front().id;
  if (after + 1 < oldest) {
    page.dropped = oldest - after - 1;
    after = oldest - 1;
  }
  // Ids are consecutive, so the first wanted event's position is known.
  for (size_t i = static_cast<size_t>(after + 1 - oldest); i < events_.size() && page.events.size() < limit; ++i)
    page.events.push_back(events_[i]);
  page.last_id = page.events.empty() ? after : page.events.back().id;
  return page;
}

uint64_t EventJournal::last_id() const {
  std::lock_guard lock(mutex_);
  return next_id_ - 1;
}

}  // namespace faultline
