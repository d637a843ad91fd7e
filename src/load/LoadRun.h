#pragma once
// A whole `faultline load` run: the workers (threads) for every target, the
// event follower, the merging of their 100 ms slices into the series, the
// live line, and the analysis of fault windows at the end.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "engine/Clock.h"
#include "load/LoadResult.h"
#include "load/LoadTarget.h"

namespace faultline::load {

struct LoadOptions {
  std::vector<TargetSpec> targets;
  Nanos duration = std::chrono::seconds(10);
  Nanos warmup = std::chrono::seconds(2);
  Nanos timeout = std::chrono::seconds(1);
  Nanos interval = std::chrono::seconds(1);
  double rate = 0;            // per target, requests/s; 0: closed loop
  size_t concurrency = 0;     // closed loop: clients per target
  size_t connections = 64;    // open loop: clients per target
  size_t threads = 0;         // 0: up to two per target
  bool new_connections = false;
  size_t pipeline = 1;        // requests in flight per connection (pipelining)
  std::string events_url;     // empty: no event stream
  bool live = false;          // a line per interval on `live_out`
  std::FILE* live_out = stderr;
  uint64_t seed = 1;
  bool check_targets = true;  // connect to each server once before starting
};

// Runs to the end (or until `interrupted()` says so); throws
// std::runtime_error with a one-line message when it cannot start.
LoadResult run_load(const LoadOptions& options, const std::function<bool()>& interrupted);

}  // namespace faultline::load
