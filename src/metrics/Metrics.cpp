#include "metrics/Metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "control/Registry.h"
#include "metrics/ApiStats.h"
#include "schedule/Scheduler.h"

namespace faultline {
namespace {

// Label values escaped as the exposition format requires.
std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

struct ByteSeries {
  uint64_t received = 0;
  uint64_t sent = 0;
};

// (direction, listener, proxy, upstream): the label order, sorted by name.
using SeriesKey = std::tuple<std::string, std::string, std::string, std::string>;

void render_toxiproxy_counters(const Registry& registry, std::string& out) {
  std::map<SeriesKey, ByteSeries> series;
  for (const auto& r : registry.retired_counters()) {
    for (Direction d : kDirections) {
      auto& s = series[{to_string(d), r.listen, r.proxy, r.upstream}];
      s.received += r.received[index_of(d)];
      s.sent += r.sent[index_of(d)];
    }
  }
  for (const auto& rt : registry.runtimes()) {
    if (rt->accepted_this_run() == 0) continue;
    for (Direction d : kDirections) {
      auto& s = series[{to_string(d), rt->listen, rt->name, rt->upstream}];
      s.received += rt->received_this_run(d);
      s.sent += rt->sent_this_run(d);
    }
  }
  if (series.empty()) return;
  for (const char* family : {"received", "sent"}) {
    out += fmt::format("# HELP toxiproxy_proxy_{}_bytes_total \n# TYPE toxiproxy_proxy_{}_bytes_total counter\n", family, family);
    for (const auto& [key, s] : series) {
      const auto& [direction, listener, proxy, upstream] = key;
      out += fmt::format("toxiproxy_proxy_{}_bytes_total{{direction=\"{}\",listener=\"{}\",proxy=\"{}\",upstream=\"{}\"}} {}\n",
                         family, direction, escape_label(listener), escape_label(proxy), escape_label(upstream),
                         family[0] == 'r' ? s.received : s.sent);
    }
  }
}

double process_start_time() {
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close_paren = content.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(content.substr(close_paren + 2));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) start_ticks = std::stoull(field);
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  uptime_file >> uptime;
  const double boot = static_cast<double>(::time(nullptr)) - uptime;
  return boot + static_cast<double>(start_ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void render_process_metrics(const MetricsOptions& options, std::string& out) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  long pages_total = 0, pages_resident = 0;
  std::ifstream statm("/proc/self/statm");
  statm >> pages_total >> pages_resident;
  const long page = ::sysconf(_SC_PAGESIZE);
  size_t open_fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++open_fds;
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  rlimit as{};
  ::getrlimit(RLIMIT_AS, &as);
  auto gauge = [&](const char* name, const char* help, const char* type, double value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  out += fmt::format("# HELP faultline_build_info Build information of the running faultline server.\n"
                     "# TYPE faultline_build_info gauge\nfaultline_build_info{{version=\"{}\"}} 1\n",
                     escape_label(options.version));
  gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", cpu);
  gauge("process_max_fds", "Maximum number of open file descriptors.", "gauge", static_cast<double>(nofile.rlim_cur));
  gauge("process_open_fds", "Number of open file descriptors.", "gauge", static_cast<double>(open_fds > 0 ? open_fds - 1 : 0));
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", static_cast<double>(pages_resident * page));
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", process_start_time());
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", static_cast<double>(pages_total * page));
  gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", "gauge",
        as.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(as.rlim_cur));
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void render_api_requests(const ApiStats& stats, std::string& out) {
  const auto counts = stats.snapshot();
  if (counts.empty()) return;
  family(out, "faultline_api_requests_total", "counter", "API requests by method, route and status.");
  for (const auto& [key, n] : counts) {
    const auto& [method, route, status] = key;
    out += fmt::format("faultline_api_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                       escape_label(method), escape_label(route), status, n);
  }
}

// faultline's per-proxy families, in name order.
void render_proxy_families(const Registry& registry, std::string& out) {
  const auto proxies = registry.metrics_views();
  auto per_proxy = [&](const char* name, const char* type, const char* help, auto value) {
    family(out, name, type, help);
    for (const auto& p : proxies) out += fmt::format("{}{{proxy=\"{}\"}} {}\n", name, escape_label(p.name), value(p));
  };
  auto total = [](const ProxyMetricsView& p, auto get) -> uint64_t { return get(*p.counters); };

  family(out, "faultline_proxy_bytes_total", "counter", "Bytes delivered by each proxy, by direction.");
  for (const auto& p : proxies) {
    for (Direction d : kDirections) {
      const uint64_t bytes = p.counters->counters(d).bytes_sent.load(std::memory_order_relaxed);
      out += fmt::format("faultline_proxy_bytes_total{{direction=\"{}\",proxy=\"{}\"}} {}\n", to_string(d),
                         escape_label(p.name), bytes);
    }
  }
  per_proxy("faultline_proxy_connections_accepted_total", "counter", "Client connections accepted since the proxy was created.",
            [&](const auto& p) { return total(p, [](const ProxyCounters& r) { return r.connections_accepted.load(std::memory_order_relaxed); }); });
  per_proxy("faultline_proxy_connections_active", "gauge", "Client connections open now.",
            [&](const auto& p) { return p.counters->connections_active.load(std::memory_order_relaxed); });
  if (!proxies.empty() && proxies.front().kernel_path)
    per_proxy("faultline_proxy_connections_in_kernel", "gauge",
              "Connections with a direction the kernel redirects now (-fast-path bpf); the rest use splice or toxics.",
              [&](const auto& p) { return p.counters->connections_in_kernel.load(std::memory_order_relaxed); });
  per_proxy("faultline_proxy_connections_closed_total", "counter", "Client connections closed since the proxy was created.",
            [&](const auto& p) { return total(p, [](const ProxyCounters& r) { return r.connections_closed.load(std::memory_order_relaxed); }); });
  per_proxy("faultline_proxy_enabled", "gauge", "1 while the proxy listens, 0 while it is disabled.",
            [](const auto& p) { return p.enabled ? 1 : 0; });
  family(out, "faultline_proxy_toxics", "gauge", "Toxics configured on each proxy, by type.");
  for (const auto& p : proxies) {
    std::map<std::string, int> by_type;
    for (const auto& t : p.toxics) ++by_type[t.type];
    for (const auto& [type, n] : by_type)
      out += fmt::format("faultline_proxy_toxics{{proxy=\"{}\",type=\"{}\"}} {}\n", escape_label(p.name), type, n);
  }
  per_proxy("faultline_proxy_upstream_connect_failures_total", "counter", "Upstream connects that failed (refused, timed out, unresolvable).",
            [&](const auto& p) { return total(p, [](const ProxyCounters& r) { return r.upstream_connect_failures.load(std::memory_order_relaxed); }); });
  family(out, "faultline_proxy_upstream_connect_seconds", "summary", "Time from accepting a client to being connected upstream.");
  for (const auto& p : proxies) {
    const uint64_t nanos = total(p, [](const ProxyCounters& r) { return r.upstream_connect_nanos.load(std::memory_order_relaxed); });
    const uint64_t count = total(p, [](const ProxyCounters& r) { return r.upstream_connects.load(std::memory_order_relaxed); });
    out += fmt::format("faultline_proxy_upstream_connect_seconds_sum{{proxy=\"{}\"}} {:.9f}\n", escape_label(p.name), static_cast<double>(nanos) / 1e9);
    out += fmt::format("faultline_proxy_upstream_connect_seconds_count{{proxy=\"{}\"}} {}\n", escape_label(p.name), count);
  }
  family(out, "faultline_chaos_events_total", "counter",
         "Faults toxics caused, by event (the typed chaos events logs also show), since the proxy was created.");
  for (const auto& p : proxies)
    for (size_t kind = 0; kind < kChaosEventKinds; ++kind)
      if (const uint64_t n = p.counters->chaos_events[kind].load(std::memory_order_relaxed); n > 0) {
        std::string event(describe(static_cast<ChaosEventKind>(kind)));
        for (char& c : event) c = c == ' ' ? '_' : c;
        out += fmt::format("faultline_chaos_events_total{{event=\"{}\",proxy=\"{}\"}} {}\n", event, escape_label(p.name), n);
      }
  family(out, "faultline_toxic_activations_total", "counter", "Connections each toxic applied to (after toxicity).");
  for (const auto& p : proxies)
    for (const auto& t : p.toxics)
      out += fmt::format("faultline_toxic_activations_total{{proxy=\"{}\",stream=\"{}\",toxic=\"{}\",type=\"{}\"}} {}\n",
                         escape_label(p.name), t.stream, escape_label(t.name), t.type, t.activations);
}

// The HTTP toxics' families: faulted requests per toxic, and every request
// they framed by status, with its duration as a histogram.
void render_http_families(const Registry& registry, std::string& out) {
  const auto proxies = registry.metrics_views();
  std::string faults;
  for (const auto& p : proxies)
    for (const auto& t : p.toxics)
      for (const auto& [key, n] : t.faults)
        faults += fmt::format("faultline_http_faults_total{{fault=\"{}\",proxy=\"{}\",status=\"{}\",toxic=\"{}\"}} {}\n", key.first,
                              escape_label(p.name), escape_label(key.second), escape_label(t.name), n);
  if (!faults.empty()) {
    family(out, "faultline_http_faults_total", "counter",
           "HTTP requests each HTTP toxic faulted, by fault and by the status the client got (upstream: the upstream's).");
    out += faults;
  }
  std::string requests, durations;
  for (const auto& p : proxies) {
    const HttpRequestStats* stats = p.counters->http_requests.find();
    if (!stats) continue;
    for (int code = HttpRequestStats::kFirstStatus; code <= HttpRequestStats::kLastStatus; ++code) {
      const auto& s = stats->status(code);
      const uint64_t count = s.count.load(std::memory_order_relaxed);
      if (count == 0) continue;
      const std::string labels = fmt::format("proxy=\"{}\",status=\"{}\"", escape_label(p.name), code);
      requests += fmt::format("faultline_http_requests_total{{{}}} {}\n", labels, count);
      for (size_t i = 0; i < HttpRequestStats::kBounds.size(); ++i)
        durations += fmt::format("faultline_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, HttpRequestStats::kBounds[i],
                                 s.buckets[i].load(std::memory_order_relaxed));
      durations += fmt::format("faultline_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, count);
      durations += fmt::format("faultline_http_request_duration_seconds_sum{{{}}} {:.9f}\n", labels,
                               static_cast<double>(s.nanos.load(std::memory_order_relaxed)) / 1e9);
      durations += fmt::format("faultline_http_request_duration_seconds_count{{{}}} {}\n", labels, count);
    }
  }
  if (requests.empty()) return;
  family(out, "faultline_http_request_duration_seconds", "histogram",
         "Time from an HTTP request's head reaching the proxy to the end of its answer leaving for the client, by status.");
  out += durations;
  family(out, "faultline_http_requests_total", "counter", "HTTP requests framed by HTTP toxics, by the status of their answer.");
  out += requests;
}

void render_schedule_families(const Scheduler& scheduler, std::string& out) {
  family(out, "faultline_schedules_active", "gauge", "Schedules pending or running.");
  out += fmt::format("faultline_schedules_active {}\n", scheduler.active_count());
  family(out, "faultline_schedule_transitions_total", "counter", "Transitions each schedule made (a fault switched on or off).");
  for (const auto& c : scheduler.counters())
    out += fmt::format("faultline_schedule_transitions_total{{kind=\"{}\",proxy=\"{}\",schedule=\"{}\"}} {}\n", c.kind,
                       escape_label(c.proxy), escape_label(c.schedule), c.transitions);
}

}  // namespace

std::string render_metrics(const Registry& registry, const ApiStats* api_stats, const MetricsOptions& options) {
  std::string out;
  if (api_stats) render_api_requests(*api_stats, out);
  if (options.proxy_metrics) render_proxy_families(registry, out);
  if (options.proxy_metrics) render_http_families(registry, out);
  if (options.proxy_metrics && options.scheduler) render_schedule_families(*options.scheduler, out);
  if (options.runtime_metrics) render_process_metrics(options, out);
  out +=
      "# HELP promhttp_metric_handler_errors_total Total number of internal errors encountered by the promhttp metric handler.\n"
      "# TYPE promhttp_metric_handler_errors_total counter\n"
      "promhttp_metric_handler_errors_total{cause=\"encoding\"} 0\n"
      "promhttp_metric_handler_errors_total{cause=\"gathering\"} 0\n";
  if (options.proxy_metrics) render_toxiproxy_counters(registry, out);
  return out;
}

}  // namespace faultline
