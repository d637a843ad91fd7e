#pragma once
// Everything a `faultline load` run measured, for the table, the JSON file
// and the HTML report.
#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

#include "load/ErrorClass.h"
#include "load/FaultWindows.h"
#include "load/LatencyHistogram.h"

namespace faultline::load {

// One reporting interval (--interval) of one target.
struct IntervalFigures {
  double start_s = 0;  // since the run began (warm-up included)
  double seconds = 0;
  uint64_t ok = 0;
  ErrorCounts errors{};
  int64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
  uint64_t requests() const {
    uint64_t n = ok;
    for (auto e : errors) n += e;
    return n;
  }
};

struct TargetResult {
  std::string url;
  uint64_t ok = 0;
  ErrorCounts errors{};
  std::array<std::string, kErrorClasses> examples;  // the first message of each class
  LatencyHistogram latency{3};                      // after the warm-up
  std::vector<IntervalFigures> intervals;
  uint64_t requests() const {
    uint64_t n = ok;
    for (auto e : errors) n += e;
    return n;
  }
  uint64_t error_total() const { return requests() - ok; }
};

struct LoadResult {
  int64_t start_wall_us = 0;    // the run's time zero, wall clock
  double warmup_s = 0;
  double measured_s = 0;        // after the warm-up, until the end (or Ctrl+C)
  std::string mode;             // "rate" or "concurrency"
  double rate = 0;              // per target, open loop
  size_t clients = 0;           // per target: connections (rate) or concurrency
  size_t pipeline = 1;          // requests in flight per connection
  double interval_s = 1;
  bool interrupted = false;
  std::vector<TargetResult> targets;
  std::vector<SliceFigures> slices;     // every 100 ms, all targets together
  std::vector<nlohmann::json> events;   // as received
  std::vector<FaultWindow> faults;
  BaselineBand baseline;
  std::string events_url;
  std::vector<std::string> warnings;
};

}  // namespace faultline::load
