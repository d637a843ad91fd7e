#include "schedule/Schedule.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <numbers>

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
  if (spec_.kind == ScheduleKind::Ramp || spec_.kind == ScheduleKind::Wave) return sample_time(step_);
  if (spec_.kind == ScheduleKind::Timeline) {
    const int64_t n = static_cast<int64_t>(spec_.timeline.size());
    return begins_at_ + spec_.period * (step_ / n) + spec_.timeline[static_cast<size_t>(step_ % n)].at;
  }
  // Flap: step 2N+1 is cycle N's down edge, step 2N+2 its end (the next up).
  const Nanos period = spec_.up + spec_.down;
  const int64_t cycle = (step_ - 1) / 2;
  const bool next_is_down = step_ % 2 == 1;
  return begins_at_ + period * cycle + (next_is_down ? spec_.up : period);
}

std::vector<ScheduleTransition> Schedule::advance(TimePoint now) {
  std::vector<ScheduleTransition> out;
  if (spec_.kind == ScheduleKind::Ramp || spec_.kind == ScheduleKind::Wave) {
    advance_modulation(now, out);
    return out;
  }
  if (spec_.kind == ScheduleKind::Timeline) {
    advance_timeline(now, out);
    return out;
  }
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
  const bool modulates = spec_.kind == ScheduleKind::Ramp || spec_.kind == ScheduleKind::Wave;
  if (spec_.kind == ScheduleKind::Timeline) undo = undo_timeline();
  else if (faulty_) undo = modulates ? undo_modulation("cancelled").batch : fault_off("cancelled").batch;
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

// ---- ramp and wave ---------------------------------------------------------

int64_t Schedule::ramp_samples() const {
  if (spec_.steps > 0) return spec_.steps;
  const int64_t every_100ms = (spec_.duration + Millis(99)) / Millis(100);
  return std::max<int64_t>(1, every_100ms);
}

// Sample k's time, computed from the start (never accumulated).
TimePoint Schedule::sample_time(int64_t k) const {
  if (spec_.kind == ScheduleKind::Ramp) return begins_at_ + spec_.duration * k / ramp_samples();
  const Nanos every = spec_.shape == Shape::Square ? spec_.period / 2 : std::clamp<Nanos>(spec_.period / 8, Millis(1), Millis(100));
  const TimePoint t = begins_at_ + every * k;
  if (spec_.duration > Nanos(0)) return std::min(t, begins_at_ + spec_.duration);
  return t;
}

double Schedule::value_at(int64_t k) const {
  const double lo = spec_.from, hi = spec_.to;
  if (spec_.kind == ScheduleKind::Ramp) {
    const double f = static_cast<double>(k) / static_cast<double>(ramp_samples());
    if (spec_.shape == Shape::Exponential) {
      if (lo > 0 && hi > 0) return lo * std::pow(hi / lo, f);
      return lo + (hi - lo) * (std::pow(2.0, 10.0 * f) - 1.0) / 1023.0;  // from or to is 0
    }
    return lo + (hi - lo) * f;
  }
  // Where in the period, [0, 1), in whole nanoseconds (a float modulo puts 150 ms a hair before 50 % of 100 ms).
  const Nanos into = (sample_time(k) - begins_at_) % spec_.period;
  const double x = static_cast<double>(into.count()) / static_cast<double>(spec_.period.count());
  double level = 0;
  switch (spec_.shape) {
    case Shape::Sine: level = (1.0 - std::cos(2.0 * std::numbers::pi * x)) / 2.0; break;
    case Shape::Square: level = x < 0.5 ? 1.0 : 0.0; break;
    case Shape::Triangle: level = x < 0.5 ? 2.0 * x : 2.0 - 2.0 * x; break;
    default: level = x; break;  // sawtooth
  }
  return lo + (hi - lo) * level;
}

AttributeValue Schedule::as_value(double v) const {
  if (spec_.whole_numbers) return static_cast<int64_t>(std::llround(v));
  return v;
}

// Sets the attribute to its value at sample k (the first sample creates the toxic when the schedule owns it).
ScheduleTransition Schedule::move_to(int64_t k) {
  ScheduleTransition t;
  t.phase = spec_.kind == ScheduleKind::Ramp ? "ramping" : "waving";
  const AttributeValue value = as_value(value_at(k));
  if (k == 0 && spec_.toxic) {
    ToxicSpec toxic = *spec_.toxic;
    if (spec_.attribute == "toxicity") toxic.toxicity = static_cast<float>(std::get<double>(value));
    else if (const AttributeSchema* a = toxic.toxic_type().find_attribute(spec_.attribute))
      toxic.attributes[static_cast<size_t>(a - toxic.toxic_type().attributes.data())] = value;
    t.batch.add.push_back(std::move(toxic));
  } else if (!last_written_ || value != *last_written_) {
    ToxicPatch patch;
    // From the second step on, only while the value is still the one it set: a user who changed it takes over.
    patch.set = ToxicPatch::SetOne{spec_.attribute, value, k == 0 ? std::nullopt : last_written_};
    t.batch.update.push_back({spec_.toxic_name, std::move(patch)});
    t.batch.skip_missing_updates = true;
    t.batch.quiet = true;
  }
  last_written_ = value;
  faulty_ = true;
  if (!t.batch.add.empty() || !t.batch.update.empty()) ++transitions_;
  phase_ = t.phase;
  return t;
}

// Removes the toxic it created, or puts the original value back (unless a user changed it since).
ScheduleTransition Schedule::undo_modulation(const std::string& phase) {
  ScheduleTransition t;
  t.phase = phase;
  if (spec_.toxic) {
    t.batch.remove_if_present = {spec_.toxic_name};
  } else if (spec_.original && last_written_) {
    ToxicPatch patch;
    patch.set = ToxicPatch::SetOne{spec_.attribute, *spec_.original, last_written_};
    t.batch.update.push_back({spec_.toxic_name, std::move(patch)});
    t.batch.skip_missing_updates = true;
  }
  faulty_ = false;
  ++transitions_;
  phase_ = phase;
  return t;
}

void Schedule::advance_modulation(TimePoint now, std::vector<ScheduleTransition>& out) {
  auto emit = [&](ScheduleTransition t) {
    if (!t.batch.add.empty() || !t.batch.update.empty() || !t.batch.remove_if_present.empty()) out.push_back(std::move(t));
  };
  while (!done() && sample_time(step_) <= now) {
    if (state_ == ScheduleState::Pending) state_ = ScheduleState::Running;
    const bool wave_over = spec_.kind == ScheduleKind::Wave && spec_.duration > Nanos(0) &&
                           sample_time(step_) >= begins_at_ + spec_.duration;
    if (wave_over) {
      emit(undo_modulation("finished"));
      state_ = ScheduleState::Finished;
      break;
    }
    emit(move_to(step_));
    if (spec_.kind == ScheduleKind::Ramp && step_ == ramp_samples()) {
      if (!spec_.hold) emit(undo_modulation("finished"));
      faulty_ = false;  // holding: the value stays, and nothing is left to undo
      state_ = ScheduleState::Finished;
      phase_ = spec_.hold ? "holding" : "finished";
      break;
    }
    ++step_;
  }
}

// ---- timeline ---------------------------------------------------------------

void Schedule::advance_timeline(TimePoint now, std::vector<ScheduleTransition>& out) {
  const int64_t n = static_cast<int64_t>(spec_.timeline.size());
  for (auto at = next_at(); at && *at <= now; at = next_at()) {
    state_ = ScheduleState::Running;
    const TimelineStep& step = spec_.timeline[static_cast<size_t>(step_ % n)];
    ScheduleTransition t;
    t.phase = fmt::format("step {}/{} ({})", step_ % n + 1, n, step.action);
    t.batch = step.batch;
    t.iteration = step_ / n;
    if (!step.added_toxic.empty()) {
      // Added by an earlier pass and still there: replaced, so each pass starts from the step's values.
      if (std::find(timeline_toxics_.begin(), timeline_toxics_.end(), step.added_toxic) != timeline_toxics_.end())
        t.batch.remove_if_present.push_back(step.added_toxic);
      else
        timeline_toxics_.push_back(step.added_toxic);
    }
    for (const auto& gone : step.batch.remove_if_present) std::erase(timeline_toxics_, gone);  // its own remove steps
    if (step.batch.enabled) timeline_disabled_ = !*step.batch.enabled;
    phase_ = t.phase;
    iteration_ = t.iteration;
    ++transitions_;
    out.push_back(std::move(t));
    ++step_;
    if (spec_.repeat > 0 && step_ >= spec_.repeat * n) {
      // Over: what it added, and a disable, do not outlive it.
      ScheduleTransition end;
      end.phase = "finished";
      end.batch = undo_timeline();
      end.iteration = iteration_;
      if (!end.batch.remove_if_present.empty() || end.batch.enabled) out.push_back(std::move(end));
      state_ = ScheduleState::Finished;
      phase_ = "finished";
      return;
    }
  }
}

ToxicBatch Schedule::undo_timeline() {
  ToxicBatch undo;
  undo.remove_if_present = std::exchange(timeline_toxics_, {});
  if (std::exchange(timeline_disabled_, false)) undo.enabled = true;
  return undo;
}

}  // namespace faultline
