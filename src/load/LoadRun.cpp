#include "load/LoadRun.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "load/EventFollower.h"
#include "load/LoadWorker.h"

namespace faultline::load {
namespace {

double seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }

// Refuses to start against a server that is not there: one line, not a
// minute of errors. (A fault that is already on is what --events is for.)
void check_reachable(const TargetSpec& target, const std::vector<ResolvedEndpoint>& endpoints) {
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const int fd = ::socket(endpoints[i].address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval limit{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&endpoints[i].address), endpoints[i].length);
    const int error = errno;
    ::close(fd);
    if (rc != 0)
      throw std::runtime_error(fmt::format("cannot connect to {}:{} of target {}: {} (check the address, or use --no-check)",
                                           target.endpoints[i].host, target.endpoints[i].port, target.url,
                                           error == EINPROGRESS || error == EAGAIN ? "no answer within 2 s" : std::strerror(error)));
  }
}

// Merges the workers' slices. A slice of a target is complete when each of
// its workers has handed it over; complete slices become the per-target
// reporting intervals and the all-targets series the analysis reads.
class Collector final : public IntervalSink {
 public:
  Collector(std::vector<size_t> workers_per_target, int slices_per_interval)
      : workers_(std::move(workers_per_target)), per_interval_(slices_per_interval), targets_(workers_.size()) {}

  void deliver(IntervalRecord&& r) override {
    std::lock_guard lock(mutex_);
    auto& t = targets_[r.target];
    auto [it, fresh] = t.pending.try_emplace(r.index);
    if (fresh) it->second.record.index = r.index;
    it->second.record.add(r);
    if (++it->second.deliveries < workers_[r.target]) return;
    complete_slice(r.target, it->second.record);
    t.pending.erase(it);
  }

  // After the workers stopped: whatever is left, in order.
  void finish() {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < targets_.size(); ++i) {
      while (!targets_[i].pending.empty()) {
        auto it = targets_[i].pending.begin();
        complete_slice(i, it->second.record);
        targets_[i].pending.erase(it);
      }
      for (auto& [index, acc] : targets_[i].intervals) complete_interval(i, index, acc.record, acc.slices);
      targets_[i].intervals.clear();
    }
    for (auto& [index, acc] : all_.pending) summarise_all(index, acc.record);
    all_.pending.clear();
    for (auto& [index, acc] : all_.intervals) live_.push_back(figures(index, acc.record, acc.slices));
    all_.intervals.clear();
  }

  std::vector<IntervalFigures> intervals_of(size_t target) const {
    std::lock_guard lock(mutex_);
    return targets_[target].done;
  }
  std::vector<SliceFigures> slices() const {
    std::lock_guard lock(mutex_);
    std::vector<SliceFigures> out;
    for (const auto& [index, s] : all_slices_) out.push_back(s);
    return out;
  }
  // Reporting intervals of all targets together that completed since the last call.
  std::vector<IntervalFigures> take_live() {
    std::lock_guard lock(mutex_);
    return std::exchange(live_, {});
  }

 private:
  struct Accumulating {
    IntervalRecord record;
    size_t deliveries = 0;
    int slices = 0;
  };
  struct PerTarget {
    std::map<int64_t, Accumulating> pending;    // slices
    std::map<int64_t, Accumulating> intervals;  // reporting intervals
    std::vector<IntervalFigures> done;
  };

  IntervalFigures figures(int64_t interval, const IntervalRecord& r, int slices) const {
    IntervalFigures f;
    f.start_s = static_cast<double>(interval * per_interval_) * 0.1;
    f.seconds = slices * 0.1;
    f.ok = r.ok;
    f.errors = r.errors;
    f.p50_us = r.latency.percentile(50);
    f.p90_us = r.latency.percentile(90);
    f.p99_us = r.latency.percentile(99);
    f.max_us = r.latency.max();
    return f;
  }

  void complete_slice(size_t target, const IntervalRecord& slice) {
    auto& acc = targets_[target].intervals[slice.index / per_interval_];
    acc.record.add(slice);
    if (++acc.slices == per_interval_) {
      complete_interval(target, slice.index / per_interval_, acc.record, acc.slices);
      targets_[target].intervals.erase(slice.index / per_interval_);
    }
    auto& all = all_.pending[slice.index];
    all.record.index = slice.index;
    all.record.add(slice);
    if (++all.deliveries == targets_.size()) {
      summarise_all(slice.index, all.record);
      all_.pending.erase(slice.index);
    }
  }

  void complete_interval(size_t target, int64_t index, const IntervalRecord& r, int slices) {
    targets_[target].done.push_back(figures(index, r, slices));
  }

  void summarise_all(int64_t index, const IntervalRecord& r) {
    SliceFigures s;
    s.start_s = static_cast<double>(index) * 0.1;
    s.ok = r.ok;
    s.errors = r.error_total();
    s.p99_us = r.latency.percentile(99);
    s.oldest_pending_us = r.oldest_pending_us;
    all_slices_[index] = s;
    auto& acc = all_.intervals[index / per_interval_];
    acc.record.add(r);
    if (++acc.slices == per_interval_) {
      live_.push_back(figures(index / per_interval_, acc.record, acc.slices));
      all_.intervals.erase(index / per_interval_);
    }
  }

  std::vector<size_t> workers_;
  int per_interval_;
  mutable std::mutex mutex_;
  std::vector<PerTarget> targets_;
  PerTarget all_;
  std::map<int64_t, SliceFigures> all_slices_;
  std::vector<IntervalFigures> live_;
};

std::string live_line(const IntervalFigures& f, const std::vector<std::string>& faults) {
  std::string errors;
  for (size_t i = 0; i < kErrorClasses; ++i)
    if (f.errors[i]) errors += fmt::format(" {} {}", to_string(static_cast<ErrorClass>(i)), f.errors[i]);
  auto latency = [&](int64_t us) { return f.ok ? fmt::format("{:8.3f} ms", static_cast<double>(us) / 1000) : "       - ms"; };
  std::string line = fmt::format("{:7.1f}s {:9.0f} req/s  p50 {}  p99 {}  errors:{}", f.start_s + f.seconds,
                                 f.seconds > 0 ? static_cast<double>(f.requests()) / f.seconds : 0, latency(f.p50_us),
                                 latency(f.p99_us), errors.empty() ? " none" : errors);
  if (!faults.empty()) {
    line += "  faults:";
    for (const auto& fault : faults) line += " [" + fault + "]";
  }
  return line;
}

}  // namespace

LoadResult run_load(const LoadOptions& o, const std::function<bool()>& interrupted) {
  if (o.targets.empty()) throw std::runtime_error("no target given");
  std::vector<std::vector<ResolvedEndpoint>> resolved;
  for (const auto& t : o.targets) {
    resolved.push_back(resolve_endpoints(t));
    if (o.check_targets) check_reachable(t, resolved.back());
  }
  const size_t clients = o.rate > 0 ? o.connections : o.concurrency;
  const size_t threads_per_target = std::clamp<size_t>(o.threads ? o.threads : 2, 1, std::max<size_t>(1, clients));
  const int per_interval = std::max<int>(1, static_cast<int>(o.interval / kSlice));

  LoadResult result;
  result.mode = o.rate > 0 ? "rate" : "concurrency";
  result.rate = o.rate;
  result.clients = clients;
  result.pipeline = o.pipeline;
  result.warmup_s = seconds(o.warmup);
  result.interval_s = per_interval * 0.1;
  result.events_url = o.events_url;

  // Time zero a little ahead, so that every thread is ready for it.
  const TimePoint start = Clock::now() + std::chrono::milliseconds(50);
  const auto wall_start = std::chrono::system_clock::now() + std::chrono::milliseconds(50);
  result.start_wall_us = std::chrono::duration_cast<std::chrono::microseconds>(wall_start.time_since_epoch()).count();

  std::unique_ptr<EventFollower> follower;
  if (!o.events_url.empty()) {
    follower = std::make_unique<EventFollower>(o.events_url, result.start_wall_us);
    follower->start();
  }

  std::vector<size_t> workers_per_target(o.targets.size(), threads_per_target);
  Collector collector(workers_per_target, per_interval);
  std::vector<std::unique_ptr<LoadWorker>> workers;
  for (size_t t = 0; t < o.targets.size(); ++t) {
    for (size_t w = 0; w < threads_per_target; ++w) {
      WorkerPlan plan;
      plan.target = o.targets[t];
      plan.target_index = t;
      plan.clients = clients / threads_per_target + (w < clients % threads_per_target ? 1 : 0);
      plan.rate = o.rate / static_cast<double>(threads_per_target);
      plan.rate_offset = o.rate > 0 ? Nanos(static_cast<int64_t>(1e9 * static_cast<double>(w) / o.rate)) : Nanos(0);
      plan.timeout = o.timeout;
      plan.new_connections = o.new_connections;
      plan.pipeline = o.pipeline;
      plan.start = start;
      plan.measure_from = start + o.warmup;
      plan.end = start + o.warmup + o.duration;
      plan.seed = mix(o.seed, t * 1000 + w);
      workers.push_back(std::make_unique<LoadWorker>(plan, resolved[t], collector));
    }
  }
  std::vector<std::thread> threads;
  std::atomic<size_t> running{workers.size()};
  for (auto& w : workers)
    threads.emplace_back([&running, worker = w.get()] {
      worker->run();
      --running;
    });

  std::optional<TimePoint> stopped_at;
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!stopped_at && interrupted()) {
      stopped_at = Clock::now();
      result.interrupted = true;
      for (auto& w : workers) w->finish_now();
    }
    if (o.live) {
      for (const auto& f : collector.take_live()) {
        if (f.requests() == 0 && f.start_s >= seconds(o.warmup + o.duration)) continue;  // the drain after the end
        const auto faults = follower ? follower->active() : std::vector<std::string>{};
        std::fprintf(o.live_out, "%s\n", live_line(f, faults).c_str());
        std::fflush(o.live_out);
      }
    }
  }
  for (auto& t : threads) t.join();
  collector.finish();
  if (o.live)
    for (const auto& f : collector.take_live())
      if (f.requests() > 0) std::fprintf(o.live_out, "%s\n", live_line(f, {}).c_str());

  const TimePoint end = std::min(stopped_at.value_or(start + o.warmup + o.duration), start + o.warmup + o.duration);
  result.measured_s = std::max(0.0, seconds(end - (start + o.warmup)));
  for (size_t t = 0; t < o.targets.size(); ++t) {
    TargetResult r;
    r.url = o.targets[t].url;
    for (size_t w = 0; w < threads_per_target; ++w) {
      const WorkerTotals& totals = workers[t * threads_per_target + w]->totals();
      r.ok += totals.ok;
      for (size_t i = 0; i < kErrorClasses; ++i) {
        r.errors[i] += totals.errors[i];
        if (r.examples[i].empty()) r.examples[i] = totals.example[i];
      }
      r.latency.add(totals.latency);
    }
    r.intervals = collector.intervals_of(t);
    result.targets.push_back(std::move(r));
  }
  result.slices = collector.slices();

  if (follower) {
    follower->stop();
    result.events = follower->events();
    result.faults = follower->windows();
    result.warnings = follower->warnings();
  }
  const size_t warmup_slices = static_cast<size_t>(o.warmup / kSlice);
  std::vector<SliceFigures> warmup(result.slices.begin(), result.slices.begin() + std::min(warmup_slices, result.slices.size()));
  result.baseline = measure_baseline(warmup);
  analyse(result.faults, result.slices, result.baseline, seconds(o.timeout));
  return result;
}

}  // namespace faultline::load
