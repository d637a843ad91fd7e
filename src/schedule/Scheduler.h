#pragma once
// Runs schedules and timed toxics on a thread of its own, against the
// registry, on the server's monotonic clock. Whatever ends a schedule —
// its last iteration, DELETE, POST /reset, its proxy going away, shutdown —
// undoes what it changed (the toxics it added, a proxy it disabled), and
// never what a user did.
//
// Locking: `apply_mutex_` orders every change the scheduler makes (a
// transition, a cancellation's undo) so that an undo can never be
// overtaken by a transition computed before it, and so that a view (GET)
// never shows a phase whose changes are not applied yet; `mutex_` guards
// the table and is never held while the registry works.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "control/Registry.h"
#include "schedule/Schedule.h"

namespace faultline {

struct ScheduleView {
  ScheduleSpec spec;
  ScheduleState state = ScheduleState::Pending;
  std::string phase;
  int64_t iteration = 0;
  uint64_t transitions = 0;
  WallTime started_at{};                 // when it began (or will begin)
  std::optional<WallTime> next_at;       // its next transition
};

// A schedule still to run or running, with what cancelling it now would
// undo (for the state file: the state as it is without the schedule).
struct ScheduleSnapshot {
  ScheduleSpec spec;
  ToxicBatch undo;
};

struct ScheduleCounters {
  std::string schedule, proxy, kind;
  uint64_t transitions = 0;
};

class Scheduler final : public RegistryListener {
 public:
  Scheduler(Registry& registry, const TimeSource& time);
  ~Scheduler();

  // Throws ControlError (404 unknown proxy, 409 name taken).
  ScheduleView create(ScheduleSpec spec);
  std::vector<ScheduleView> list() const;  // by name
  ScheduleView get(const std::string& name) const;
  void cancel(const std::string& name);   // with clean-up; 404 when unknown
  size_t active_count() const;
  std::vector<ScheduleCounters> counters() const;  // for /metrics, every schedule seen
  std::vector<std::string> running_on(const std::string& proxy) const;
  // The registry's proxies and the schedules not done, read together while
  // no schedule step is being applied, so the two agree.
  struct Snapshot {
    std::vector<ProxyView> proxies;
    std::vector<ScheduleSnapshot> schedules;
  };
  Snapshot snapshot() const;
  void stop();  // shutdown: cancels everything (with clean-up) and joins the thread
  void set_observer(ChangeObserver* observer) { observer_ = observer; }  // before serving

  // RegistryListener
  void proxy_removed(const std::string& proxy) override;
  void registry_reset() override;
  void toxic_expires(const std::string& proxy, const std::string& toxic, TimePoint at) override;

 private:
  struct Expiry {
    std::string proxy, toxic;
    TimePoint at;
  };
  void run();
  void bind_existing_toxic(ScheduleSpec& spec);
  std::optional<TimePoint> earliest_locked() const;
  void fire_due();
  void play(const Schedule& s, const std::vector<ScheduleTransition>& transitions);  // apply and log each
  void apply(const Schedule& s, const ToxicBatch& batch, const std::string& what);
  ScheduleView view_locked(const Schedule& s) const;
  WallTime wall_of(TimePoint t) const;
  void cancel_where(const std::function<bool(const Schedule&)>& which, bool undo);
  void report(ChangeKind kind, const Schedule& s, std::string_view phase = {}, int64_t iteration = 0) const;

  Registry& registry_;
  const TimeSource& time_;
  ChangeObserver* observer_ = nullptr;
  mutable std::mutex apply_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::unique_ptr<Schedule>> schedules_;
  std::map<std::string, ScheduleCounters> counters_;
  std::vector<Expiry> expiries_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace faultline
