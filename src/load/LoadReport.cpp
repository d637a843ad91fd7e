#include "load/LoadReport.h"

#include <fmt/format.h>

namespace faultline::load {
namespace {

double ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

std::string cell_ms(int64_t us) { return fmt::format("{:.3f}", ms(us)); }

std::string optional_ms(const std::optional<double>& v) { return v ? fmt::format("{:.0f} ms", *v) : "-"; }

nlohmann::json errors_json(const ErrorCounts& errors) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < kErrorClasses; ++i) out[std::string(to_string(static_cast<ErrorClass>(i)))] = errors[i];
  return out;
}

}  // namespace

std::string summary_table(const LoadResult& r) {
  std::string out;
  out += fmt::format("{:<34} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "target", "count", "req/s",
                     "p50 ms", "p90 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
  for (const auto& t : r.targets) {
    const double rate = r.measured_s > 0 ? static_cast<double>(t.requests()) / r.measured_s : 0;
    const double error_rate = t.requests() ? 100.0 * static_cast<double>(t.error_total()) / static_cast<double>(t.requests()) : 0;
    if (t.url.size() > 34) out += t.url + "\n";  // a long URL gets a line of its own
    out += fmt::format("{:<34} {:>9} {:>10.1f} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7.2f}%\n", t.url.size() > 34 ? "" : t.url,
                       t.requests(), rate, cell_ms(t.latency.percentile(50)), cell_ms(t.latency.percentile(90)),
                       cell_ms(t.latency.percentile(95)), cell_ms(t.latency.percentile(99)),
                       cell_ms(t.latency.percentile(99.9)), cell_ms(t.latency.max()), error_rate);
    for (size_t i = 0; i < kErrorClasses; ++i)
      if (t.errors[i])
        out += fmt::format("    {:<9} {:>9}  e.g. {}\n", to_string(static_cast<ErrorClass>(i)), t.errors[i], t.examples[i]);
  }
  out += fmt::format("{} {:.1f} s after a {:.1f} s warm-up{}\n",
                     (r.mode == "rate" ? fmt::format("open loop at {:.0f}/s per target over {} connections", r.rate, r.clients)
                                       : fmt::format("closed loop with {} clients per target", r.clients)) +
                         (r.pipeline > 1 ? fmt::format(" of {} pipelined requests each,", r.pipeline) : ","),
                     r.measured_s, r.warmup_s, r.interrupted ? " (interrupted)" : "");
  if (!r.events_url.empty()) {
    out += r.baseline.describe() + "\n";
    if (r.faults.empty()) out += "no fault windows seen on the event stream\n";
    else out += fmt::format("{:<16} {:<40} {:>9} {:>9} {:>10} {:>10}\n", "proxy", "fault", "on s", "off s", "impact", "recovery");
    for (const auto& f : r.faults)
      out += fmt::format("{:<16} {:<40} {:>9.3f} {:>9} {:>10} {:>10}{}\n", f.proxy.substr(0, 16), f.fault.substr(0, 40),
                         f.on_s, f.off_s ? fmt::format("{:.3f}", *f.off_s) : "-", optional_ms(f.time_to_impact_ms),
                         optional_ms(f.time_to_recovery_ms), f.note.empty() ? "" : "  (" + f.note + ")");
  }
  for (const auto& w : r.warnings) out += "warning: " + w + "\n";
  return out;
}

nlohmann::json result_json(const LoadResult& r) {
  nlohmann::json out;
  out["tool"] = "faultline load";
  out["start_us"] = r.start_wall_us;
  out["warmup_s"] = r.warmup_s;
  out["duration_s"] = r.measured_s;
  out["mode"] = r.mode;
  if (r.mode == "rate") out["rate_per_s"] = r.rate;
  out["clients"] = r.clients;
  if (r.pipeline > 1) out["pipeline"] = r.pipeline;
  out["interval_s"] = r.interval_s;
  out["interrupted"] = r.interrupted;
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : r.targets) {
    nlohmann::json j;
    j["url"] = t.url;
    j["count"] = t.requests();
    j["ok"] = t.ok;
    j["throughput_per_s"] = r.measured_s > 0 ? static_cast<double>(t.requests()) / r.measured_s : 0.0;
    j["ok_per_s"] = r.measured_s > 0 ? static_cast<double>(t.ok) / r.measured_s : 0.0;
    j["p50_ms"] = ms(t.latency.percentile(50));
    j["p90_ms"] = ms(t.latency.percentile(90));
    j["p95_ms"] = ms(t.latency.percentile(95));
    j["p99_ms"] = ms(t.latency.percentile(99));
    j["p999_ms"] = ms(t.latency.percentile(99.9));
    j["max_ms"] = ms(t.latency.max());
    j["mean_ms"] = t.latency.mean() / 1000.0;
    j["errors"] = errors_json(t.errors);
    j["error_rate"] = t.requests() ? static_cast<double>(t.error_total()) / static_cast<double>(t.requests()) : 0.0;
    nlohmann::json examples = nlohmann::json::object();
    for (size_t i = 0; i < kErrorClasses; ++i)
      if (!t.examples[i].empty()) examples[std::string(to_string(static_cast<ErrorClass>(i)))] = t.examples[i];
    j["error_examples"] = examples;
    nlohmann::json intervals = nlohmann::json::array();
    for (const auto& f : t.intervals) {
      intervals.push_back({{"start_s", f.start_s},
                           {"seconds", f.seconds},
                           {"count", f.requests()},
                           {"ok", f.ok},
                           {"throughput_per_s", f.seconds > 0 ? static_cast<double>(f.requests()) / f.seconds : 0.0},
                           {"p50_ms", ms(f.p50_us)},
                           {"p90_ms", ms(f.p90_us)},
                           {"p99_ms", ms(f.p99_us)},
                           {"max_ms", ms(f.max_us)},
                           {"errors", errors_json(f.errors)}});
    }
    j["intervals"] = intervals;
    targets.push_back(j);
  }
  out["targets"] = targets;
  nlohmann::json slices = nlohmann::json::array();
  for (const auto& s : r.slices)
    slices.push_back({{"start_s", s.start_s}, {"ok", s.ok}, {"errors", s.errors}, {"p99_ms", ms(s.p99_us)},
                      {"oldest_pending_ms", ms(s.oldest_pending_us)}});
  out["slices"] = slices;
  if (!r.events_url.empty()) {
    out["events_url"] = r.events_url;
    out["baseline"] = {{"measured", r.baseline.measured},
                       {"p99_ms", ms(r.baseline.p99_median_us)},
                       {"error_rate", r.baseline.error_rate_max},
                       {"p99_limit_ms", ms(r.baseline.p99_limit_us)},
                       {"error_rate_limit", r.baseline.error_rate_limit}};
  }
  out["events"] = r.events;
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& f : r.faults) {
    nlohmann::json j = {{"proxy", f.proxy}, {"fault", f.fault}, {"on_s", f.on_s}, {"active_at_start", f.active_at_start}};
    j["off_s"] = f.off_s ? nlohmann::json(*f.off_s) : nlohmann::json();
    j["time_to_impact_ms"] = f.time_to_impact_ms ? nlohmann::json(*f.time_to_impact_ms) : nlohmann::json();
    j["time_to_recovery_ms"] = f.time_to_recovery_ms ? nlohmann::json(*f.time_to_recovery_ms) : nlohmann::json();
    if (!f.schedule.empty()) j["schedule"] = f.schedule;
    if (!f.note.empty()) j["note"] = f.note;
    faults.push_back(j);
  }
  out["faults"] = faults;
  out["warnings"] = r.warnings;
  return out;
}

}  // namespace faultline::load
