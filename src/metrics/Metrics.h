#pragma once
// /metrics in the Prometheus text format: Toxiproxy's two byte counters and
// faultline's own families (with -proxy-metrics), process metrics and build
// info (with -runtime-metrics), API request counts (with either). Rendering
// reads relaxed atomics; the data path only ever adds to them.
#include <string>

namespace faultline {

class Registry;
class ApiStats;

class Scheduler;

struct MetricsOptions {
  bool proxy_metrics = false;
  bool runtime_metrics = false;
  std::string version;
  const Scheduler* scheduler = nullptr;  // for the schedule families
};

std::string render_metrics(const Registry& registry, const ApiStats* api_stats, const MetricsOptions& options);

}  // namespace faultline
