#pragma once
// What a user asks a schedule to do: a change of faults over time on one
// proxy, run by the server (see docs/schedules.md).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/Clock.h"
#include "control/Registry.h"
#include "model/ToxicSpec.h"

namespace faultline {

enum class ScheduleKind { Flap, Window, Ramp, Wave, Timeline };
enum class Shape { Linear, Exponential, Sine, Square, Triangle, Sawtooth };
enum class FlapMode { Refuse, Timeout, Reset, Toxic };

std::string_view to_string(ScheduleKind kind);
std::string_view to_string(FlapMode mode);
std::string_view to_string(Shape shape);

// One step of a timeline: at `at` into each pass, one action.
struct TimelineStep {
  Nanos at{0};
  std::string action;       // add, update, remove, disable, enable, cut
  ToxicBatch batch;         // what it does
  std::string added_toxic;  // add: the name of the toxic it adds (removed by the clean-up)
};

struct ScheduleSpec {
  std::string source;  // the JSON it was made from (for the state file)
  std::string name;   // default <proxy>_<kind>
  std::string proxy;
  uint64_t proxy_instance = 0;  // set by the scheduler: the proxy it was made for (see ToxicBatch::instance)
  ScheduleKind kind = ScheduleKind::Flap;
  Nanos start{0};     // delay before it begins

  // flap: `up` healthy, then `down` impaired, `iterations` times (0: until cancelled)
  FlapMode mode = FlapMode::Timeout;
  Nanos up = std::chrono::seconds(15);
  Nanos down = std::chrono::seconds(15);
  int64_t iterations = 0;
  int64_t timeout_ms = 30000;                  // the timeout (or reset_peer) toxic's attribute
  std::vector<Direction> streams = {Direction::Upstream, Direction::Downstream};
  // flap mode toxic, and window: the toxic switched on (its name defaults to the schedule's)
  std::optional<ToxicSpec> toxic;
  Nanos duration{0};  // window: how long the toxic stays on; ramp: its length; wave: 0 = until cancelled

  // ramp and wave: one attribute (or "toxicity") of one toxic moves over time.
  std::string toxic_name;   // the toxic it moves: `toxic`'s name when it creates one, else an existing toxic
  std::string attribute;
  double from = 0, to = 0;  // ramp: from -> to; wave: min and max
  int64_t steps = 0;        // ramp: 0 = smooth (every 100 ms)
  Shape shape = Shape::Linear;
  bool hold = true;         // ramp: keep the last value at the end (else undo)
  Nanos period{0};          // wave
  // Filled in by the scheduler when it starts: is the value a whole number,
  // and (for an existing toxic) what it was before, to put back at the end.
  bool whole_numbers = true;
  std::optional<AttributeValue> original;

  // timeline: steps in time order, `repeat` passes (0: until cancelled), each `period` long
  std::vector<TimelineStep> timeline;
  int64_t repeat = 1;
};

}  // namespace faultline
