#pragma once
// /metrics in the Prometheus text format: Toxiproxy's two byte counters (with
// -proxy-metrics), faultline's own families, and process metrics (with
// -runtime-metrics). Rendering reads relaxed atomics; the data path only adds.
#include <string>

namespace faultline {

class Registry;

struct MetricsOptions {
  bool proxy_metrics = false;
  bool runtime_metrics = false;
  std::string version;
};

std::string render_metrics(const Registry& registry, const MetricsOptions& options);

}  // namespace faultline
