#include "experiment/JournalReport.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "util/HtmlText.h"

namespace faultline::experiment {
namespace {

// ---- reading a journal without trusting it -------------------------------

std::string str(const Json& j, const char* key, const std::string& otherwise = "") {
  if (!j.is_object() || !j.contains(key)) return otherwise;
  const Json& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.is_null() ? otherwise : v.dump();
}

double num(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

bool yes(const Json& j, const char* key) { return j.is_object() && j.contains(key) && j[key] == true; }

const Json& list(const Json& j, const char* key) {
  static const Json empty = Json::array();
  return j.is_object() && j.contains(key) && j[key].is_array() ? j[key] : empty;
}

const Json& object(const Json& j, const char* key) {
  static const Json none = Json::object();
  return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : none;
}

// "2026-12-01T19:20:24.123456" (the toolkit's and ours, UTC), optionally
// with "Z" or "+00:00"; seconds since the epoch.
std::optional<double> epoch_seconds(const std::string& text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &used) != 6) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  double fraction = 0;
  if (static_cast<size_t>(used) < text.size() && text[used] == '.') {
    double scale = 0.1;
    for (size_t i = used + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, scale /= 10)
      fraction += (text[i] - '0') * scale;
  }
  return static_cast<double>(::timegm(&tm)) + fraction;
}

struct Entry {
  std::string phase;  // "before", "method", "during", "after", "rollbacks"
  const Json* json;   // the run entry
  bool ok;            // succeeded (and within tolerance, in a hypothesis)
};

bool entry_ok(const Json& e, bool hypothesis) {
  if (str(e, "status") != "succeeded") return false;
  return !hypothesis || !e.contains("tolerance_met") || e["tolerance_met"] == true;
}

std::vector<Entry> entries_of(const Json& journal) {
  std::vector<Entry> out;
  const Json& states = object(journal, "steady_states");
  for (const auto& p : list(object(states, "before"), "probes")) out.push_back({"before", &p, entry_ok(p, true)});
  for (const auto& r : list(journal, "run")) out.push_back({"method", &r, entry_ok(r, false)});
  for (const auto& state : list(states, "during"))
    for (const auto& p : list(state, "probes")) out.push_back({"during", &p, entry_ok(p, true)});
  for (const auto& p : list(object(states, "after"), "probes")) out.push_back({"after", &p, entry_ok(p, true)});
  for (const auto& r : list(journal, "rollbacks")) out.push_back({"rollbacks", &r, entry_ok(r, false)});
  return out;
}

std::string title_of(const Json& journal) { return str(object(journal, "experiment"), "title", "(untitled experiment)"); }
std::string name_of(const Entry& e) { return str(object(*e.json, "activity"), "name", "(unnamed)"); }
std::string kind_of(const Entry& e) { return str(object(*e.json, "activity"), "type", "activity"); }

// "python chaostoxi.toxic.actions.create_latency_toxic", "http GET http://...".
std::string provider_of(const Entry& e) {
  const Json& p = object(object(*e.json, "activity"), "provider");
  const std::string type = str(p, "type");
  if (type == "http") return "http " + str(p, "method", "GET") + " " + str(p, "url");
  if (type == "process") return "process " + str(p, "path");
  if (type == "python") return "python " + str(p, "module") + "." + str(p, "func");
  if (type == "faultline") return "faultline " + str(p, "func");
  return type;
}

std::string exception_of(const Json& e) {
  if (!e.contains("exception")) return "";
  const Json& x = e["exception"];
  if (x.is_array() && !x.empty()) return x.back().is_string() ? x.back().get<std::string>() : x.back().dump();
  return x.is_string() ? x.get<std::string>() : x.dump();
}

std::string met_text(const Json& state) {
  if (!state.is_object()) return "not checked";
  return yes(state, "steady_state_met") ? "met" : "not met";
}

// ---- text ----------------------------------------------------------------

void summary_lines(std::string& out, const std::vector<Entry>& entries, const std::string& phase, bool hypothesis) {
  for (const auto& e : entries) {
    if (e.phase != phase) continue;
    out += fmt::format("    {} {} {} {:.3f} s", e.ok ? "\u2713" : "\u2717", kind_of(e), name_of(e), num(*e.json, "duration"));
    const Json& activity = object(*e.json, "activity");
    if (hypothesis && activity.contains("tolerance")) out += " (tolerance " + activity["tolerance"].dump() + ")";
    const std::string x = exception_of(*e.json);
    if (!x.empty()) out += ": " + x.substr(0, 200);
    out += "\n";
  }
}

// ---- HTML ----------------------------------------------------------------

constexpr int kWidth = 960, kLabel = 260, kRow = 22, kTop = 30;

const char* colour_of(const Entry& e) {
  if (e.ok) return "#2ca02c";
  return str(*e.json, "status") == "succeeded" ? "#ff7f0e" : "#d62728";  // orange: ran, but outside tolerance
}

std::string timeline(const Json& journal, const std::vector<Entry>& entries) {
  const auto start = epoch_seconds(str(journal, "start"));
  double span = num(journal, "duration");
  std::vector<std::pair<double, double>> bars;  // (from, to) seconds since start
  for (const auto& e : entries) {
    const auto a = epoch_seconds(str(*e.json, "start")), b = epoch_seconds(str(*e.json, "end"));
    const double from = start && a ? *a - *start : 0, to = start && b ? *b - *start : from + num(*e.json, "duration");
    bars.emplace_back(from, to);
    span = std::max(span, to);
  }
  if (span <= 0) span = 1;
  const int height = kTop + kRow * static_cast<int>(entries.size()) + 24;
  const double plot = kWidth - kLabel - 50;
  auto X = [&](double s) { return kLabel + plot * std::clamp(s / span, 0.0, 1.0); };
  std::string svg = fmt::format(R"(<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="timeline">)", kWidth, height, kWidth, height);
  for (int i = 0; i <= 4; ++i) {
    const double s = span * i / 4;
    svg += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" class="grid"/><text x="{0:.1f}" y="{3}" class="axis" text-anchor="middle">{4:.2f} s</text>)",
                       X(s), kTop - 6, height - 20, height - 6, s);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const int y = kTop + kRow * static_cast<int>(i);
    const auto [from, to] = bars[i];
    svg += fmt::format(R"(<text x="4" y="{}" class="label">{}: {}</text>)", y + 15, e.phase, html_escape(name_of(e).substr(0, 34)));
    svg += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}" rx="2"><title>{} {} {:.3f} s {}</title></rect>)",
                       X(from), y + 3, std::max(2.0, X(to) - X(from)), kRow - 6, colour_of(e), html_escape(kind_of(e)),
                       html_escape(name_of(e)), to - from, html_escape(str(*e.json, "status")));
  }
  return svg + "</svg>";
}

std::string pretty(const Json& v) {
  std::string text = v.dump(2);
  if (text.size() > 20000) text = text.substr(0, 20000) + "\n... (cut at 20000 characters)";
  return html_escape(text);
}

std::string activity_rows(const Json& journal, const std::vector<Entry>& entries) {
  const auto start = epoch_seconds(str(journal, "start"));
  std::string rows;
  for (const auto& e : entries) {
    const auto a = epoch_seconds(str(*e.json, "start"));
    const Json& activity = object(*e.json, "activity");
    std::string tolerance = activity.contains("tolerance") ? html_escape(activity["tolerance"].dump()) : "";
    if (e.json->contains("tolerance_met")) tolerance += (*e.json)["tolerance_met"] == true ? " <b class=ok>met</b>" : " <b class=bad>not met</b>";
    const std::string x = exception_of(*e.json);
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>+{:.3f} s</td><td>{:.3f} s</td>"
        "<td class={}>{}</td><td>{}</td><td>{}<details><summary>output</summary><pre>{}</pre></details></td></tr>\n",
        e.phase, html_escape(kind_of(e)), html_escape(name_of(e)), html_escape(provider_of(e)), start && a ? *a - *start : 0.0,
        num(*e.json, "duration"), e.ok ? "ok" : "bad", html_escape(str(*e.json, "status")), tolerance,
        x.empty() ? "" : "<div class=bad>" + html_escape(x) + "</div>", pretty(e.json->contains("output") ? (*e.json)["output"] : Json()));
  }
  return rows;
}

std::string journal_section(const Json& journal) {
  const std::vector<Entry> entries = entries_of(journal);
  const std::string status = str(journal, "status", "unknown");
  const bool deviated = yes(journal, "deviated");
  const bool good = status == "completed" && !deviated;
  const Json& states = object(journal, "steady_states");
  std::string html = fmt::format("<section><h2>{} <span class=\"pill {}\">{}{}</span></h2>\n", html_escape(title_of(journal)),
                                 good ? "ok" : "bad", html_escape(status), deviated ? ", deviated" : "");
  const std::string description = str(object(journal, "experiment"), "description");
  if (!description.empty()) html += "<p>" + html_escape(description) + "</p>\n";
  html += fmt::format(
      "<table class=meta><tr><th>started</th><td>{}</td><th>ended</th><td>{}</td><th>duration</th><td>{:.3f} s</td></tr>"
      "<tr><th>node</th><td>{}</td><th>platform</th><td>{}</td><th>runner</th><td>{}</td></tr>"
      "<tr><th>hypothesis before</th><td>{}</td><th>during</th><td>{} checks</td><th>after</th><td>{}</td></tr></table>\n",
      html_escape(str(journal, "start")), html_escape(str(journal, "end")), num(journal, "duration"), html_escape(str(journal, "node")),
      html_escape(str(journal, "platform")), html_escape(str(journal, "chaoslib-version")), met_text(states.contains("before") ? states["before"] : Json()),
      list(states, "during").size(), met_text(states.contains("after") ? states["after"] : Json()));
  html += "<h3>Timeline</h3>\n" + timeline(journal, entries) + "\n";
  html += "<h3>Activities</h3>\n<table class=acts><tr><th>phase</th><th>type</th><th>name</th><th>provider</th><th>start</th>"
          "<th>duration</th><th>status</th><th>tolerance</th><th>output</th></tr>\n" +
          activity_rows(journal, entries) + "</table></section>\n";
  return html;
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
table.meta th{background:#f6f6f6}pre{max-height:300px;overflow:auto;background:#f8f8f8;padding:6px}
.pill{font-size:13px;padding:2px 8px;border-radius:10px;color:#fff}.pill.ok{background:#2ca02c}.pill.bad{background:#d62728}
td.ok,b.ok{color:#2ca02c}td.bad,b.bad,div.bad{color:#d62728}
svg .label{font-size:12px}svg .axis{font-size:11px;fill:#666}svg .grid{stroke:#eee}
)";

}  // namespace

Json load_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ExperimentError(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ExperimentError(path + ": not a journal (a JSON object)");
  return j;
}

std::string journal_summary(const Json& journal) {
  const std::vector<Entry> entries = entries_of(journal);
  const Json& states = object(journal, "steady_states");
  const bool deviated = yes(journal, "deviated");
  std::string out = title_of(journal) + "\n";
  out += fmt::format("  status: {}, deviated: {}, {:.2f} s, started {} on {}\n", str(journal, "status", "unknown"),
                     deviated ? "yes" : "no", num(journal, "duration"), str(journal, "start", "?"), str(journal, "node", "?"));
  out += "  steady state before: " + met_text(states.contains("before") ? states["before"] : Json()) + "\n";
  summary_lines(out, entries, "before", true);
  const auto method_failed = std::count_if(entries.begin(), entries.end(), [](const Entry& e) { return e.phase == "method" && !e.ok; });
  out += fmt::format("  method: {} activities, {} failed\n", list(journal, "run").size(), method_failed);
  summary_lines(out, entries, "method", false);
  if (!list(states, "during").empty()) {
    const auto& during = list(states, "during");
    const auto missed = std::count_if(during.begin(), during.end(), [](const Json& s) { return !yes(s, "steady_state_met"); });
    out += fmt::format("  steady state during: {} checks, {} not met\n", during.size(), missed);
  }
  out += "  steady state after: " + met_text(states.contains("after") ? states["after"] : Json()) + "\n";
  summary_lines(out, entries, "after", true);
  out += fmt::format("  rollbacks: {}\n", list(journal, "rollbacks").size());
  summary_lines(out, entries, "rollbacks", false);
  return out;
}

std::string journal_html(const std::vector<Json>& journals) {
  std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>faultline experiment report</title><style>";
  html += kStyle;
  html += "</style></head><body><h1>Experiment report</h1>\n";
  if (journals.size() > 1) {
    html += "<table><tr><th>experiment</th><th>status</th></tr>";
    for (const auto& j : journals)
      html += fmt::format("<tr><td>{}</td><td>{}{}</td></tr>", html_escape(title_of(j)), html_escape(str(j, "status")),
                          yes(j, "deviated") ? ", deviated" : "");
    html += "</table>\n";
  }
  for (const auto& j : journals) html += journal_section(j);
  return html + "<p><small>Made by faultline report.</small></p></body></html>\n";
}

}  // namespace faultline::experiment
