#pragma once
// A change to what the server does, as the event stream reports it: a proxy
// created or disabled, a toxic added or removed, a schedule entering a phase.
// A load generator lines its measurements up against these to tell when a
// fault began and ended (`faultline load --events`).
#include <cstdint>
#include <string>

namespace faultline {

struct ControlEvent {
  uint64_t id = 0;       // 1, 2, 3... in the order the changes were made
  int64_t time_us = 0;   // wall clock, microseconds since the Unix epoch
  std::string type;      // "toxic_added", "proxy_disabled", "schedule_transition", ...
  std::string proxy;     // empty for server-wide events ("reset")
  std::string fields;    // further JSON members, already encoded: "\"toxic\":\"lag\",..." (may be empty)
};

// The event as one JSON object: {"id":..,"time_us":..,"type":..,"proxy":..,<fields>}.
std::string event_json(const ControlEvent& event);

}  // namespace faultline
