#include "schedule/Scheduler.h"

#include <algorithm>

#include "log/Log.h"
#include "schedule/ScheduleDecode.h"

namespace faultline {

Scheduler::Scheduler(Registry& registry, const TimeSource& time) : registry_(registry), time_(time) {
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { stop(); }

WallTime Scheduler::wall_of(TimePoint t) const {
  return time_.wall_now() + std::chrono::duration_cast<WallTime::duration>(t - time_.now());
}

ScheduleView Scheduler::view_locked(const Schedule& s) const {
  ScheduleView v{s.spec(), s.state(), s.phase(), s.iteration(), s.transitions(), wall_of(s.begins_at()), std::nullopt};
  if (auto next = s.next_at()) v.next_at = wall_of(*next);
  return v;
}

// A ramp or wave on a toxic the user made: it must exist and have the
// attribute; its value now is what the end of the schedule puts back.
void Scheduler::bind_existing_toxic(ScheduleSpec& spec) {
  const ToxicSpec toxic = registry_.get_toxic(spec.proxy, spec.toxic_name);  // 404 when missing
  if (spec.attribute == "toxicity") {
    spec.original = static_cast<double>(toxic.toxicity);
    spec.whole_numbers = false;
    return;
  }
  const AttributeSchema* a = toxic.toxic_type().find_attribute(spec.attribute);
  const AttributeValue* value = toxic.find(spec.attribute);
  if (!a || !value || (a->type != AttributeType::Integer && a->type != AttributeType::Duration && a->type != AttributeType::Number))
    throw ControlError(ControlErrorKind::Invalid, "invalid schedule field \"attribute\": \"" + spec.attribute + "\" (toxic " +
                                                      spec.toxic_name + " of type " + std::string(toxic.type_name()) +
                                                      " has no such numeric attribute)");
  spec.whole_numbers = a->type != AttributeType::Number;
  spec.original = *value;
  try {
    check_modulation_range(spec, *a);
  } catch (const std::exception& e) {
    throw ControlError(ControlErrorKind::Invalid, e.what());
  }
}

ScheduleView Scheduler::create(ScheduleSpec spec) {
  spec.proxy_instance = registry_.get_proxy(spec.proxy).instance;  // 404 for an unknown proxy
  const bool modulates = spec.kind == ScheduleKind::Ramp || spec.kind == ScheduleKind::Wave;
  if (modulates && !spec.toxic) bind_existing_toxic(spec);
  std::lock_guard order(apply_mutex_);  // it may replace a finished schedule a transition still points at
  Schedule* created = nullptr;
  std::vector<ScheduleTransition> first;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw ControlError(ControlErrorKind::Unavailable, "faultline is shutting down: no schedule can start");
    auto it = schedules_.find(spec.name);
    if (it != schedules_.end() && !it->second->done())
      throw ControlError(ControlErrorKind::AlreadyExists, "schedule already exists");
    auto schedule = std::make_unique<Schedule>(std::move(spec), time_.now());
    created = schedule.get();
    const ScheduleSpec& s = created->spec();
    schedules_[s.name] = std::move(schedule);  // a finished one of that name is replaced
    auto& counter = counters_[s.name];
    counter = ScheduleCounters{s.name, s.proxy, std::string(to_string(s.kind)), counter.transitions};
    log::info("schedule created", {{"schedule", s.name}, {"proxy", s.proxy}, {"kind", to_string(s.kind)},
                                   {"start_ms", std::chrono::duration_cast<Millis>(s.start).count()}});
    report(ChangeKind::ScheduleStarted, *created);
    // What is due at once happens before the reply (a window from now is on when the POST answers).
    first = created->advance(time_.now());
    counter.transitions += first.size();
  }
  play(*created, first);
  wake_.notify_all();
  std::lock_guard lock(mutex_);
  return view_locked(*created);
}

// Views wait for a transition being played, so a phase that reads "down"
// has already been applied to the proxy.
std::vector<ScheduleView> Scheduler::list() const {
  std::lock_guard order(apply_mutex_);
  std::lock_guard lock(mutex_);
  std::vector<ScheduleView> out;
  for (const auto& [name, s] : schedules_) out.push_back(view_locked(*s));
  return out;
}

ScheduleView Scheduler::get(const std::string& name) const {
  std::lock_guard order(apply_mutex_);
  std::lock_guard lock(mutex_);
  auto it = schedules_.find(name);
  if (it == schedules_.end()) throw ControlError(ControlErrorKind::NotFound, "schedule not found");
  return view_locked(*it->second);
}

size_t Scheduler::active_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(schedules_.begin(), schedules_.end(), [](const auto& e) { return !e.second->done(); }));
}

std::vector<ScheduleCounters> Scheduler::counters() const {
  std::lock_guard lock(mutex_);
  std::vector<ScheduleCounters> out;
  for (const auto& [name, c] : counters_) out.push_back(c);
  return out;
}

Scheduler::Snapshot Scheduler::snapshot() const {
  std::lock_guard order(apply_mutex_);
  Snapshot out;
  out.proxies = registry_.list_proxies();
  std::lock_guard lock(mutex_);
  for (const auto& [name, s] : schedules_) {
    if (s->done()) continue;
    Schedule copy = *s;  // cancelling the copy says what cancelling it would undo
    out.schedules.push_back({s->spec(), copy.cancel()});
  }
  return out;
}

std::vector<std::string> Scheduler::running_on(const std::string& proxy) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, s] : schedules_)
    if (!s->done() && s->spec().proxy == proxy) out.push_back(name);
  return out;
}

void Scheduler::cancel(const std::string& name) {
  std::lock_guard order(apply_mutex_);
  std::unique_ptr<Schedule> s;
  ToxicBatch undo;
  {
    std::lock_guard lock(mutex_);
    auto it = schedules_.find(name);
    if (it == schedules_.end()) throw ControlError(ControlErrorKind::NotFound, "schedule not found");
    s = std::move(it->second);
    schedules_.erase(it);
    if (!s->done()) undo = s->cancel();
  }
  apply(*s, undo, "cancelled");
  log::info("schedule cancelled", {{"schedule", name}, {"proxy", s->spec().proxy}});
  report(ChangeKind::ScheduleCancelled, *s);
}

void Scheduler::cancel_where(const std::function<bool(const Schedule&)>& which, bool undo) {
  std::lock_guard order(apply_mutex_);
  std::vector<std::pair<Schedule*, ToxicBatch>> undos;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, s] : schedules_)
      if (!s->done() && which(*s)) undos.emplace_back(s.get(), s->cancel());
  }
  // The schedules stay in the table (cancelled) until deleted or replaced.
  for (auto& [s, batch] : undos) {
    if (undo) apply(*s, batch, "cancelled");
    log::info("schedule cancelled", {{"schedule", s->spec().name}, {"proxy", s->spec().proxy}});
    report(ChangeKind::ScheduleCancelled, *s);
  }
}

void Scheduler::proxy_removed(const std::string& proxy) {
  // Nothing to undo: the proxy and its toxics are gone.
  cancel_where([&](const Schedule& s) { return s.spec().proxy == proxy; }, false);
  std::lock_guard lock(mutex_);
  std::erase_if(expiries_, [&](const Expiry& e) { return e.proxy == proxy; });
}

void Scheduler::registry_reset() {
  // Reset removed every toxic and enabled every proxy already.
  cancel_where([](const Schedule&) { return true; }, false);
  std::lock_guard lock(mutex_);
  expiries_.clear();
}

void Scheduler::toxic_expires(const std::string& proxy, const std::string& toxic, TimePoint at) {
  std::lock_guard lock(mutex_);
  std::erase_if(expiries_, [&](const Expiry& e) { return e.proxy == proxy && e.toxic == toxic; });
  expiries_.push_back(Expiry{proxy, toxic, at});
  wake_.notify_all();
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  cancel_where([](const Schedule&) { return true; }, true);
}

std::optional<TimePoint> Scheduler::earliest_locked() const {
  std::optional<TimePoint> earliest;
  for (const auto& [name, s] : schedules_)
    if (auto at = s->next_at(); at && (!earliest || *at < *earliest)) earliest = at;
  for (const auto& e : expiries_)
    if (!earliest || e.at < *earliest) earliest = e.at;
  return earliest;
}

void Scheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto next = earliest_locked();
    if (!next) {
      wake_.wait(lock);
      continue;
    }
    const Nanos wait = *next - time_.now();
    if (wait > Nanos(0)) {
      // Wait on the real clock for as long as the time source says; a
      // manual clock (tests) is re-read at least every 10 ms.
      wake_.wait_for(lock, std::min<Nanos>(wait, &time_ == &system_time() ? wait : Nanos(Millis(10))));
      continue;
    }
    lock.unlock();
    fire_due();
    lock.lock();
  }
}

void Scheduler::fire_due() {
  std::lock_guard order(apply_mutex_);
  std::vector<std::pair<const Schedule*, std::vector<ScheduleTransition>>> due;
  std::vector<Expiry> expired;
  {
    std::lock_guard lock(mutex_);
    const TimePoint now = time_.now();
    for (auto& [name, s] : schedules_)
      if (auto at = s->next_at(); at && *at <= now) {
        due.emplace_back(s.get(), s->advance(now));
        counters_[name].transitions += due.back().second.size();
      }
    for (auto it = expiries_.begin(); it != expiries_.end();) {
      if (it->at <= now) {
        expired.push_back(*it);
        it = expiries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Schedules are never destroyed outside apply_mutex_, so the pointers hold.
  for (const auto& [s, transitions] : due) play(*s, transitions);
  for (const auto& e : expired) {
    try {
      if (registry_.expire_toxic(e.proxy, e.toxic, e.at))
        log::info("timed toxic expired", {{"proxy", e.proxy}, {"toxic", e.toxic}});
    } catch (const std::exception&) {
      // The proxy went away meanwhile: nothing to remove.
    }
  }
}

void Scheduler::play(const Schedule& s, const std::vector<ScheduleTransition>& transitions) {
  for (const auto& t : transitions) {
    report(ChangeKind::ScheduleTransition, s, t.phase, t.iteration);  // before the changes it makes
    apply(s, t.batch, t.phase);
    log::info("schedule transition", {{"schedule", s.spec().name}, {"proxy", s.spec().proxy},
                                      {"kind", to_string(s.spec().kind)}, {"phase", t.phase}, {"iteration", t.iteration}});
  }
  if (!transitions.empty() && s.state() == ScheduleState::Finished) {
    log::info("schedule finished", {{"schedule", s.spec().name}});
    report(ChangeKind::ScheduleFinished, s);
  }
}

void Scheduler::report(ChangeKind kind, const Schedule& s, std::string_view phase, int64_t iteration) const {
  if (!observer_) return;
  ControlChange c{kind, s.spec().proxy};
  c.schedule = s.spec().name;
  c.schedule_kind = to_string(s.spec().kind);
  c.phase = phase;
  c.iteration = iteration;
  observer_->changed(c);
}

void Scheduler::apply(const Schedule& s, const ToxicBatch& batch, const std::string& what) {
  if (batch.add.empty() && batch.remove_if_present.empty() && batch.update.empty() && !batch.enabled) return;
  try {
    ToxicBatch bound = batch;
    bound.instance = s.spec().proxy_instance;
    bound.origin = s.spec().name;
    registry_.apply(s.spec().proxy, bound);
  } catch (const std::exception& e) {
    // A user's change won (a toxic of that name exists, the proxy is gone): leave it be.
    log::warn("schedule step not applied", {{"schedule", s.spec().name}, {"proxy", s.spec().proxy}, {"phase", what},
                                            {"error", e.what()}});
  }
}

}  // namespace faultline
