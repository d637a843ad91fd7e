#include "schedule/Schedule.h"

namespace faultline {

std::string_view to_string(ScheduleState state) {
  switch (state) {
    case ScheduleState::Pending: return "pending";
    case ScheduleState::Running: return "running";
    case ScheduleState::Finished: return "finished";
    case ScheduleState::Cancelled: return "cancelled";
  }
  return "?";
}

Schedule::Schedule(ScheduleSpec spec, TimePoint created) : spec_(std::move(spec)), begins_at_(created + spec_.start) {}

std::optional<TimePoint> Schedule::next_at() const {
  if (done()) return std::nullopt;
  if (state_ == ScheduleState::Pending) return begins_at_;
  if (spec_.kind == ScheduleKind::Window) return begins_at_ + spec_.duration;
  // Flap: step 2N+1 is cycle N's down edge, step 2N+2 its end (the next up).
  const Nanos period = spec_.up + spec_.down;
  const int64_t cycle = (step_ - 1) / 2;
  const bool next_is_down = step_ % 2 == 1;
  return begins_at_ + period * cycle + (next_is_down ? spec_.up : period);
}

std::vector<ScheduleTransition> Schedule::advance(TimePoint now) {
  std::vector<ScheduleTransition> out;
  for (auto at = next_at(); at && *at <= now; at = next_at()) {
    if (state_ == ScheduleState::Pending) {
      state_ = ScheduleState::Running;
      step_ = 1;
      if (spec_.kind == ScheduleKind::Window) out.push_back(fault_on());
      else phase_ = "up";  // a flap begins healthy
      continue;
    }
    if (spec_.kind == ScheduleKind::Window) {
      out.push_back(fault_off("off"));
      state_ = ScheduleState::Finished;
      continue;
    }
    const bool going_down = step_ % 2 == 1;
    ++step_;
    if (going_down) {
      out.push_back(fault_on());
    } else {
      out.push_back(fault_off("up"));
      ++iteration_;
      if (spec_.iterations > 0 && iteration_ >= spec_.iterations) state_ = ScheduleState::Finished;
    }
  }
  for (auto& t : out) t.iteration = iteration_;
  if (state_ == ScheduleState::Finished) phase_ = "finished";
  return out;
}

ToxicBatch Schedule::cancel() {
  ToxicBatch undo;
  if (faulty_) undo = fault_off("cancelled").batch;
  state_ = ScheduleState::Cancelled;
  phase_ = "cancelled";
  faulty_ = false;
  return undo;
}

ToxicSpec Schedule::own_toxic(Direction d) const {
  ToxicSpec t = default_toxic_spec(*find_toxic_type(spec_.mode == FlapMode::Reset ? "reset_peer" : "timeout"));
  t.name = spec_.name + "_" + to_string(d);
  t.stream = to_string(d);
  t.direction = d;
  t.attributes[0] = spec_.timeout_ms;
  return t;
}

std::vector<std::string> Schedule::own_toxic_names() const {
  if (spec_.kind == ScheduleKind::Window || spec_.mode == FlapMode::Toxic) return {spec_.toxic->name};
  if (spec_.mode == FlapMode::Refuse) return {};
  std::vector<std::string> names;
  for (Direction d : spec_.streams) names.push_back(own_toxic(d).name);
  return names;
}

ScheduleTransition Schedule::fault_on() {
  ScheduleTransition t;
  t.phase = spec_.kind == ScheduleKind::Window ? "on" : "down";
  if (spec_.kind == ScheduleKind::Flap && spec_.mode == FlapMode::Refuse) {
    t.batch.enabled = false;
  } else if (spec_.kind == ScheduleKind::Window || spec_.mode == FlapMode::Toxic) {
    t.batch.add.push_back(*spec_.toxic);
  } else {
    for (Direction d : spec_.streams) t.batch.add.push_back(own_toxic(d));
  }
  phase_ = t.phase;
  faulty_ = true;
  ++transitions_;
  return t;
}

ScheduleTransition Schedule::fault_off(const std::string& phase) {
  ScheduleTransition t;
  t.phase = phase;
  if (spec_.kind == ScheduleKind::Flap && spec_.mode == FlapMode::Refuse) t.batch.enabled = true;
  // Only what it added, and only if still there: a user who removed it meanwhile is not contradicted.
  t.batch.remove_if_present = own_toxic_names();
  phase_ = phase;
  faulty_ = false;
  ++transitions_;
  return t;
}

}  // namespace faultline
