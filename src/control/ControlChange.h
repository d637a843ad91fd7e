#pragma once
// One change the registry made, as typed data, for the event stream. The
// registry reports each change while it still holds its lock, so observers
// see changes in exactly the order they were made; an observer must be
// quick and must never call back into the registry.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/ProxySpec.h"
#include "model/ToxicSpec.h"

namespace faultline {

enum class ChangeKind : uint8_t {
  ProxyCreated,
  ProxyUpdated,   // listen or upstream changed
  ProxyEnabled,
  ProxyDisabled,
  ProxyDeleted,
  ToxicAdded,
  ToxicUpdated,
  ToxicRemoved,
  ConnectionsCut,
  Reset,          // after the removals and enables a reset made, each reported on its own
  ScheduleStarted,
  ScheduleTransition,
  ScheduleFinished,
  ScheduleCancelled,
};

// The event's name on the stream: "proxy_created", "toxic_added", ...
constexpr std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::ProxyCreated: return "proxy_created";
    case ChangeKind::ProxyUpdated: return "proxy_updated";
    case ChangeKind::ProxyEnabled: return "proxy_enabled";
    case ChangeKind::ProxyDisabled: return "proxy_disabled";
    case ChangeKind::ProxyDeleted: return "proxy_deleted";
    case ChangeKind::ToxicAdded: return "toxic_added";
    case ChangeKind::ToxicUpdated: return "toxic_updated";
    case ChangeKind::ToxicRemoved: return "toxic_removed";
    case ChangeKind::ConnectionsCut: return "connections_cut";
    case ChangeKind::Reset: return "reset";
    case ChangeKind::ScheduleStarted: return "schedule_started";
    case ChangeKind::ScheduleTransition: return "schedule_transition";
    case ChangeKind::ScheduleFinished: return "schedule_finished";
    case ChangeKind::ScheduleCancelled: return "schedule_cancelled";
  }
  return "unknown";
}

struct ControlChange {
  ChangeKind kind;
  std::string_view proxy;                  // empty for Reset
  const ProxySpec* proxy_spec = nullptr;   // proxy events: the proxy after the change
  const ToxicSpec* toxic = nullptr;        // toxic events: as stored (removed: as it was)
  std::string_view reason;                 // "expired", "reset", "populate"; empty for a plain API call
  std::string_view schedule;               // the schedule whose step made the change, if any
  std::string_view phase;                  // schedule events: the phase entered ("down", "on", ...)
  std::string_view schedule_kind;          // schedule events: "flap", "window", ...
  int64_t iteration = 0;                   // schedule transitions
};

class ChangeObserver {
 public:
  virtual void changed(const ControlChange& change) = 0;

 protected:
  ~ChangeObserver() = default;
};

// Several observers in the one place the registry and the scheduler report
// to (the event stream, the state file), told in the order they were added.
class ChangeObservers final : public ChangeObserver {
 public:
  void add(ChangeObserver* observer) { observers_.push_back(observer); }
  void changed(const ControlChange& change) override {
    for (ChangeObserver* o : observers_) o->changed(change);
  }

 private:
  std::vector<ChangeObserver*> observers_;
};

}  // namespace faultline
