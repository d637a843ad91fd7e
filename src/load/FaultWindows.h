#pragma once
// From the server's events to fault windows (a toxic on then off, a proxy
// disabled then enabled, a schedule's down phase, which shows as one of
// those), and from the client's 100 ms slices to each window's time to
// impact and time to recovery, against a baseline band measured during the
// warm-up. Pure functions: no sockets, no clocks.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "load/ErrorClass.h"

namespace faultline::load {

// One merged 100 ms slice of every target, as the analysis needs it.
struct SliceFigures {
  double start_s = 0;           // since the run began
  uint64_t ok = 0;
  uint64_t errors = 0;
  int64_t p99_us = 0;           // of the ok replies (0 when none)
  int64_t oldest_pending_us = 0;
  double error_rate() const { return ok + errors ? static_cast<double>(errors) / static_cast<double>(ok + errors) : 0; }
};

struct FaultWindow {
  std::string proxy;
  std::string fault;      // "toxic lag (latency, downstream)", "proxy disabled", "connections cut"
  std::string schedule;   // the schedule that made it, if any
  double on_s = 0;        // since the run began
  std::optional<double> off_s;  // nothing: still on when the run ended
  bool active_at_start = false;
  std::optional<double> time_to_impact_ms;
  std::optional<double> time_to_recovery_ms;
  std::string note;       // why a figure is missing
};

struct BaselineBand {
  bool measured = false;
  int64_t p99_median_us = 0;    // of the warm-up slices
  double error_rate_max = 0;
  int64_t p99_limit_us = 0;     // a slice above this is impacted
  double error_rate_limit = 0;
  std::string describe() const;  // one line for the report
};

// Opens and closes windows from events (JSON objects as the server sends
// them), in order. `run_start_us` is the wall clock of the run's time zero;
// `initial` holds faults already present then (from GET /proxies).
class FaultTracker {
 public:
  explicit FaultTracker(int64_t run_start_us) : run_start_us_(run_start_us) {}
  void already_active(const std::string& proxy, const std::string& key, const std::string& fault);
  void observe(const nlohmann::json& event);
  std::vector<FaultWindow> windows() const { return windows_; }
  std::vector<std::string> active() const;  // "proxy: fault" of the open windows, for the live line

 private:
  void open(const std::string& proxy, const std::string& key, const std::string& fault, double at_s,
            const std::string& schedule, bool at_start);
  void close(const std::string& proxy, const std::string& key, double at_s);
  int64_t run_start_us_;
  std::vector<FaultWindow> windows_;
  std::vector<std::pair<std::string, size_t>> open_;  // "proxy\nkey" -> index into windows_
};

// The band from the warm-up slices (the first one, connection set-up, is left out).
BaselineBand measure_baseline(const std::vector<SliceFigures>& warmup);
bool in_band(const SliceFigures& slice, const BaselineBand& band);

// Fills in time to impact and time to recovery (recovered: 1 s in band).
void analyse(std::vector<FaultWindow>& windows, const std::vector<SliceFigures>& slices, const BaselineBand& band,
             double timeout_s);

}  // namespace faultline::load
