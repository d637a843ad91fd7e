#include "load/HtmlReport.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "load/LoadReport.h"
#include "util/HtmlText.h"

namespace faultline::load {
namespace {

constexpr int kWidth = 900, kHeight = 220, kLeft = 70, kRight = 20, kTop = 28, kBottom = 34;
constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

std::string escape(const std::string& text) { return html_escape(text); }

struct Series {
  std::string name;
  std::string colour;
  std::vector<std::pair<double, double>> points;  // (seconds since start, value)
  bool dashed = false;
};

// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
double nice_ceiling(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (v <= m * p) return m * p;
  return 10 * p;
}

std::string chart(const std::string& title, const std::string& unit, const std::vector<Series>& series,
                  const std::vector<FaultWindow>& faults, double x_max, double warmup_s) {
  double y_max = 0;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) y_max = std::max(y_max, y);
  y_max = nice_ceiling(y_max * 1.05);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto X = [&](double x) { return kLeft + plot_w * std::clamp(x / x_max, 0.0, 1.0); };
  auto Y = [&](double y) { return kTop + plot_h * (1 - std::clamp(y / y_max, 0.0, 1.0)); };
  std::string svg = fmt::format(R"(<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">)", kWidth,
                                kHeight, kWidth, kHeight, escape(title));
  svg += fmt::format(R"(<text x="{}" y="18" class="title">{}</text>)", kLeft, escape(title));
  if (warmup_s > 0)
    svg += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{:.1f}" class="warmup"><title>warm-up</title></rect>)",
                       X(0), kTop, X(warmup_s) - X(0), plot_h);
  for (const auto& f : faults) {
    const double on = f.on_s, off = f.off_s.value_or(x_max);
    svg += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{:.1f}" class="fault"><title>{}: {}</title></rect>)",
                       X(on), kTop, std::max(1.5, X(off) - X(on)), plot_h, escape(f.proxy), escape(f.fault));
  }
  for (int i = 0; i <= 4; ++i) {
    const double v = y_max * i / 4;
    svg += fmt::format(R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid"/><text x="{}" y="{:.1f}" class="axis" text-anchor="end">{:g}</text>)",
                       kLeft, kWidth - kRight, Y(v), Y(v), kLeft - 6, Y(v) + 4, v);
  }
  const double x_step = nice_ceiling(x_max / 8);
  for (double x = 0; x <= x_max + 1e-9; x += x_step)
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" class="axis" text-anchor="middle">{:g}s</text>)", X(x), kHeight - 12, x);
  svg += fmt::format(R"svg(<text x="12" y="{:.1f}" class="axis" transform="rotate(-90 12 {:.1f})" text-anchor="middle">{}</text>)svg",
                     kTop + plot_h / 2, kTop + plot_h / 2, escape(unit));
  int legend_x = kLeft + 260;
  for (const auto& s : series) {
    std::string path;
    for (const auto& [x, y] : s.points) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", X(x), Y(y));
    svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="1.6"{}/>)", path, s.colour,
                       s.dashed ? R"( stroke-dasharray="4 3")" : "");
    svg += fmt::format(R"(<rect x="{}" y="10" width="12" height="3" fill="{}"/><text x="{}" y="16" class="legend">{}</text>)",
                       legend_x, s.colour, legend_x + 16, escape(s.name));
    legend_x += 20 + static_cast<int>(s.name.size()) * 7;
  }
  return svg + "</svg>\n";
}

}  // namespace

std::string html_report(const LoadResult& r) {
  double x_max = 0.1;
  for (const auto& t : r.targets)
    for (const auto& f : t.intervals) x_max = std::max(x_max, f.start_s + f.seconds);
  std::vector<Series> latency, throughput, errors;
  for (size_t i = 0; i < r.targets.size(); ++i) {
    const auto& t = r.targets[i];
    const std::string colour = kColours[i % std::size(kColours)];
    const std::string label = r.targets.size() > 1 ? t.url + " " : "";
    Series p50{label + "p50", colour, {}, true}, p99{label + "p99", colour, {}}, rate{label + "req/s", colour, {}},
        error{label + "errors %", colour, {}};
    for (const auto& f : t.intervals) {
      const double x = f.start_s + f.seconds / 2;
      if (f.ok) {
        p50.points.emplace_back(x, static_cast<double>(f.p50_us) / 1000);
        p99.points.emplace_back(x, static_cast<double>(f.p99_us) / 1000);
      }
      rate.points.emplace_back(x, f.seconds > 0 ? static_cast<double>(f.requests()) / f.seconds : 0);
      const uint64_t n = f.requests();
      error.points.emplace_back(x, n ? 100.0 * static_cast<double>(n - f.ok) / static_cast<double>(n) : 0);
    }
    latency.push_back(p50);
    latency.push_back(p99);
    throughput.push_back(rate);
    errors.push_back(error);
  }
  std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>faultline load report</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:960px}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}
svg{display:block;margin:8px 0 16px 0;background:#fff;border:1px solid #ddd}
.title{font-size:13px;font-weight:600} .axis{font-size:11px;fill:#555} .legend{font-size:11px;fill:#333}
.grid{stroke:#eee} .fault{fill:#d62728;fill-opacity:0.14} .warmup{fill:#888;fill-opacity:0.10}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
</style></head><body>
<h1>faultline load report</h1>
)";
  html += fmt::format("<p>{} target(s), {} for {:.1f} s after a {:.1f} s warm-up (grey). Fault windows from the event stream are shaded red.</p>\n",
                      r.targets.size(), r.mode == "rate" ? fmt::format("open loop at {:.0f} requests/s", r.rate)
                                                         : fmt::format("closed loop with {} clients", r.clients),
                      r.measured_s, r.warmup_s);
  html += chart("Latency per interval", "ms", latency, r.faults, x_max, r.warmup_s);
  html += chart("Throughput per interval", "requests/s", throughput, r.faults, x_max, r.warmup_s);
  html += chart("Error rate per interval", "% of requests", errors, r.faults, x_max, r.warmup_s);
  html += "<h2>Summary</h2>\n<pre>" + escape(summary_table(r)) + "</pre>\n";
  if (!r.faults.empty()) {
    html += "<h2>Fault windows</h2>\n<table><tr><th>proxy</th><th>fault</th><th>on (s)</th><th>off (s)</th><th>time to impact</th><th>time to recovery</th></tr>\n";
    for (const auto& f : r.faults)
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.3f}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", escape(f.proxy),
                          escape(f.fault), f.on_s, f.off_s ? fmt::format("{:.3f}", *f.off_s) : "-",
                          f.time_to_impact_ms ? fmt::format("{:.0f} ms", *f.time_to_impact_ms) : escape(f.note),
                          f.time_to_recovery_ms ? fmt::format("{:.0f} ms", *f.time_to_recovery_ms) : escape(f.note));
    html += "</table>\n";
  }
  return html + "</body></html>\n";
}

}  // namespace faultline::load
