#pragma once
// One schedule as a plan in time, without threads or I/O: given the clock,
// it says when its next transition is due and which change each transition
// makes (a ToxicBatch for the registry). Iteration N of a flap starts at
// start + N x (up + down), computed, never accumulated, so it cannot drift.
// The Scheduler runs it; tests drive it with any time they like.
#include <optional>
#include <string>
#include <vector>

#include "control/Registry.h"
#include "schedule/ScheduleSpec.h"

namespace faultline {

enum class ScheduleState { Pending, Running, Finished, Cancelled };
std::string_view to_string(ScheduleState state);

struct ScheduleTransition {
  std::string phase;  // the phase it enters: "up", "down", "on", "off"
  int64_t iteration = 0;
  ToxicBatch batch;   // what it changes
};

class Schedule {
 public:
  Schedule(ScheduleSpec spec, TimePoint created);

  const ScheduleSpec& spec() const { return spec_; }
  ScheduleState state() const { return state_; }
  const std::string& phase() const { return phase_; }
  int64_t iteration() const { return iteration_; }
  uint64_t transitions() const { return transitions_; }
  TimePoint begins_at() const { return begins_at_; }
  bool done() const { return state_ == ScheduleState::Finished || state_ == ScheduleState::Cancelled; }

  // When the next transition is due; nothing once done.
  std::optional<TimePoint> next_at() const;
  // Every transition due at `now`, in order; the state follows them.
  std::vector<ScheduleTransition> advance(TimePoint now);
  // Stops it; returns what undoes its faults (nothing to undo: an empty batch).
  ToxicBatch cancel();

 private:
  ScheduleTransition fault_on();
  ScheduleTransition fault_off(const std::string& phase);
  std::vector<std::string> own_toxic_names() const;
  // ramp and wave
  int64_t ramp_samples() const;
  TimePoint sample_time(int64_t k) const;
  double value_at(int64_t k) const;
  AttributeValue as_value(double v) const;
  ScheduleTransition move_to(int64_t k);
  ScheduleTransition undo_modulation(const std::string& phase);
  void advance_modulation(TimePoint now, std::vector<ScheduleTransition>& out);
  // timeline
  void advance_timeline(TimePoint now, std::vector<ScheduleTransition>& out);
  ToxicBatch undo_timeline();
  ToxicSpec own_toxic(Direction d) const;  // flap timeout/reset modes

  ScheduleSpec spec_;
  TimePoint begins_at_;
  ScheduleState state_ = ScheduleState::Pending;
  std::string phase_ = "pending";
  bool faulty_ = false;      // its fault is in force now
  int64_t iteration_ = 0;    // flap: the cycle under way, from 0
  int64_t step_ = 0;         // transitions planned so far (flap: 2 per cycle)
  uint64_t transitions_ = 0;
  std::optional<AttributeValue> last_written_;  // ramp, wave: the value it set last
  std::vector<std::string> timeline_toxics_;    // timeline: the toxics it added and has not removed
  bool timeline_disabled_ = false;              // timeline: the proxy is disabled by one of its steps
};

}  // namespace faultline
