#include "load/FaultWindows.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace faultline::load {
namespace {

constexpr double kSliceS = 0.1;
constexpr int kRecoveredSlices = 10;  // 1 s inside the band

std::string text(const nlohmann::json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string BaselineBand::describe() const {
  if (!measured) return "no baseline (no warm-up slices with replies): time to impact and recovery not measured";
  return fmt::format("baseline p99 {:.3f} ms, errors {:.2f} % -> band: p99 <= {:.3f} ms, errors <= {:.2f} %",
                     static_cast<double>(p99_median_us) / 1000, error_rate_max * 100,
                     static_cast<double>(p99_limit_us) / 1000, error_rate_limit * 100);
}

void FaultTracker::already_active(const std::string& proxy, const std::string& key, const std::string& fault) {
  open(proxy, key, fault, 0, "", true);
}

void FaultTracker::open(const std::string& proxy, const std::string& key, const std::string& fault, double at_s,
                        const std::string& schedule, bool at_start) {
  const std::string id = proxy + "\n" + key;
  for (const auto& [k, i] : open_)
    if (k == id) return;  // already on (seen in the initial state and as an event)
  FaultWindow w;
  w.proxy = proxy;
  w.fault = fault;
  w.schedule = schedule;
  w.on_s = std::max(0.0, at_s);
  w.active_at_start = at_start || at_s < 0;
  windows_.push_back(w);
  open_.emplace_back(id, windows_.size() - 1);
}

void FaultTracker::close(const std::string& proxy, const std::string& key, double at_s) {
  const std::string id = proxy + "\n" + key;
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    if (it->first != id && !(key.empty() && it->first.rfind(proxy + "\n", 0) == 0)) continue;
    windows_[it->second].off_s = std::max(at_s, windows_[it->second].on_s);
    open_.erase(it);
    if (key.empty()) return close(proxy, key, at_s);  // every window of the proxy
    return;
  }
}

void FaultTracker::observe(const nlohmann::json& e) {
  if (!e.is_object()) return;
  const std::string type = text(e, "type"), proxy = text(e, "proxy"), toxic = text(e, "toxic");
  const auto time = e.find("time_us");
  if (time == e.end() || !time->is_number()) return;
  const double at_s = static_cast<double>(time->get<int64_t>() - run_start_us_) / 1e6;
  const std::string schedule = text(e, "schedule");
  if (type == "toxic_added") {
    open(proxy, "toxic:" + toxic, fmt::format("toxic {} ({}, {})", toxic, text(e, "toxic_type"), text(e, "stream")), at_s,
         schedule, false);
  } else if (type == "toxic_removed") {
    close(proxy, "toxic:" + toxic, at_s);
  } else if (type == "proxy_disabled") {
    open(proxy, "disabled", "proxy disabled", at_s, schedule, false);
  } else if (type == "proxy_enabled") {
    close(proxy, "disabled", at_s);
  } else if (type == "proxy_deleted") {
    close(proxy, "", at_s);
  } else if (type == "connections_cut") {
    open(proxy, "cut", "connections cut", at_s, schedule, false);
    close(proxy, "cut", at_s);
  }
}

std::vector<std::string> FaultTracker::active() const {
  std::vector<std::string> out;
  for (const auto& [id, i] : open_) out.push_back(windows_[i].proxy + ": " + windows_[i].fault);
  return out;
}

BaselineBand measure_baseline(const std::vector<SliceFigures>& warmup) {
  BaselineBand band;
  std::vector<int64_t> p99s;
  for (size_t i = 1; i < warmup.size(); ++i) {
    if (warmup[i].ok) p99s.push_back(warmup[i].p99_us);
    band.error_rate_max = std::max(band.error_rate_max, warmup[i].error_rate());
  }
  if (p99s.empty()) return band;
  std::sort(p99s.begin(), p99s.end());
  band.measured = true;
  band.p99_median_us = p99s[p99s.size() / 2];
  // A slice's p99 is nearly its maximum (100 ms at 1,000/s is 100
  // replies), so a busy machine's hiccups reach a few milliseconds: the
  // band is 4x the baseline, at least 5 ms above it, and half as much again
  // as the worst warm-up slice (the hiccups this machine has). Wide enough
  // that noise stays inside, narrow enough that a fault a user would notice
  // leaves it; the report prints it.
  band.p99_limit_us = std::max({4 * band.p99_median_us, band.p99_median_us + 5000, p99s.back() * 3 / 2});
  band.error_rate_limit = band.error_rate_max + 0.01;
  return band;
}

bool in_band(const SliceFigures& s, const BaselineBand& band) {
  if (s.ok && s.p99_us > band.p99_limit_us) return false;
  if (s.error_rate() > band.error_rate_limit) return false;
  if (s.oldest_pending_us > band.p99_limit_us) return false;  // a stall: nothing comes back at all
  return true;
}

void analyse(std::vector<FaultWindow>& windows, const std::vector<SliceFigures>& slices, const BaselineBand& band,
             double timeout_s) {
  for (auto& w : windows) {
    if (!band.measured) {
      w.note = "no baseline";
      continue;
    }
    const double impact_until = (w.off_s ? *w.off_s : 1e18) + timeout_s;
    std::optional<size_t> impacted;
    for (size_t i = 0; i < slices.size(); ++i) {
      const double start = slices[i].start_s, end = start + kSliceS;
      if (end <= w.on_s || start >= impact_until) continue;
      if (!in_band(slices[i], band)) {
        impacted = i;
        break;
      }
    }
    if (!impacted) {
      w.note = "no impact seen";
      continue;
    }
    w.time_to_impact_ms = std::max(0.0, slices[*impacted].start_s - w.on_s) * 1000;
    if (!w.off_s) {
      w.note = "still on at the end";
      continue;
    }
    // The first slice from which the next second is all inside the band
    // (or the time until the next fault begins, if that comes sooner).
    double next_fault_s = 1e18;
    for (const auto& other : windows)
      if (other.on_s > *w.off_s) next_fault_s = std::min(next_fault_s, other.on_s);
    for (size_t i = 0; i < slices.size(); ++i) {
      if (slices[i].start_s + kSliceS <= *w.off_s) continue;
      size_t needed = 0;
      while (needed < kRecoveredSlices && i + needed < slices.size() && slices[i + needed].start_s + kSliceS <= next_fault_s)
        ++needed;
      if (needed == 0 || (needed < kRecoveredSlices && slices[i].start_s + kRecoveredSlices * kSliceS < next_fault_s)) break;
      bool steady = true;
      for (size_t j = i; j < i + needed && steady; ++j) steady = in_band(slices[j], band);
      if (steady) {
        w.time_to_recovery_ms = std::max(0.0, slices[i].start_s - *w.off_s) * 1000;
        break;
      }
    }
    if (!w.time_to_recovery_ms) w.note = "not recovered before the end";
  }
}

}  // namespace faultline::load
