#include "experiment/Runner.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "experiment/Providers.h"
#include "experiment/Tolerance.h"
#include "experiment/Variables.h"

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION "dev"
#endif

namespace faultline::experiment {
namespace {

using WallClock = std::chrono::system_clock;

std::string iso_time(WallClock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}", buffer, us % 1'000'000);
}

class Run {
 public:
  Run(const Experiment& e, RunOptions o) : e_(e), o_(std::move(o)) {}

  Json go();

 private:
  bool interrupted() const { return o_.interrupted && o_.interrupted->load(); }

  void log(const char* level, const std::string& message) const {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    const bool bad = std::string_view(level) != "INFO";
    if (o_.colour && bad) std::fprintf(o_.log, "\033[%sm", std::string_view(level) == "WARNING" ? "33" : "31");
    std::fprintf(o_.log, "[%s %s] %s%s\n", stamp, level, message.c_str(), o_.colour && bad ? "\033[0m" : "");
    std::fflush(o_.log);
  }

  // Sleeps, but Ctrl+C ends the pause at once.
  void pause(const Json& pauses, const char* when) {
    if (!pauses.is_object() || !pauses.contains(when) || !pauses[when].is_number()) return;
    const double seconds = pauses[when].get<double>();
    if (o_.dry == DryMode::Pause) return;
    log("INFO", fmt::format("Pausing {} activity for {}s...", when == std::string("before") ? "before" : "after", seconds));
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until && !interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  bool skipped_by_dry(const Json& a) const {
    const bool probe = a.value("type", "") == "probe";
    return o_.dry == DryMode::Activities || (o_.dry == DryMode::Probes && probe) || (o_.dry == DryMode::Actions && !probe);
  }

  // One activity: substituted, paused around, run; its journal entry.
  Json activity(const Json& declared, const char* label) {
    const Json a = substitute(declared, values_);
    const std::string type = a.value("type", "action");
    log("INFO", fmt::format("{}: {}", label ? label : (type == "probe" ? "Probe" : "Action"), a.value("name", "")));
    pause(a.value("pauses", Json()), "before");
    Json entry;
    entry["activity"] = a;
    const auto start = WallClock::now();
    if (skipped_by_dry(a)) {
      entry["output"] = nullptr;
      entry["status"] = "succeeded";
    } else {
      try {
        entry["output"] = run_provider(a["provider"], values_, *o_.interrupted);
        entry["status"] = "succeeded";
      } catch (const ActivityFailed& failure) {
        entry["output"] = nullptr;
        entry["status"] = "failed";
        entry["exception"] = Json::array({std::string("ActivityFailed: ") + failure.what()});
        log("ERROR", fmt::format("  => failed: {}", failure.what()));
      }
    }
    const auto end = WallClock::now();
    entry["start"] = iso_time(start);
    entry["end"] = iso_time(end);
    entry["duration"] = std::chrono::duration<double>(end - start).count();
    pause(a.value("pauses", Json()), "after");
    return entry;
  }

  // The hypothesis' probes, each against its tolerance; stops at the first miss.
  Json hypothesis() {
    Json state;
    state["steady_state_met"] = true;
    state["probes"] = Json::array();
    log("INFO", "Steady-state hypothesis: " + e_.hypothesis_title);
    for (const auto& probe : e_.hypothesis) {
      if (interrupted()) break;
      Json entry = activity(probe, nullptr);
      bool met = true;
      if (entry["status"] == "failed") {
        met = false;
      } else if (!skipped_by_dry(entry["activity"])) {
        const ToleranceResult r = check_tolerance(substitute(probe["tolerance"], values_), entry["output"]);
        met = r.met;
        if (!met) log("ERROR", fmt::format("  => {}", r.why));
      }
      entry["tolerance_met"] = met;
      state["probes"].push_back(entry);
      if (!met) {
        log("CRITICAL", fmt::format("Steady state probe '{}' is not in the given tolerance so failing this experiment",
                                    probe.value("name", "")));
        state["steady_state_met"] = false;
        return state;
      }
    }
    log("INFO", "Steady state hypothesis is met!");
    return state;
  }

  void check_providers() const {
    auto check = [](const std::vector<Json>& list, const std::string& where) {
      for (size_t i = 0; i < list.size(); ++i)
        if (list[i]["provider"].value("type", "") == "python")
          check_python_provider(list[i]["provider"], where + "[" + std::to_string(i) + "].provider");
    };
    check(e_.hypothesis, e_.path + ": steady-state-hypothesis.probes");
    check(e_.method, e_.path + ": method");
    check(e_.rollbacks, e_.path + ": rollbacks");
  }

  const Experiment& e_;
  RunOptions o_;
  Json values_;
};

Json Run::go() {
  values_ = resolve_values(e_, o_.overrides);
  check_providers();
  static const std::atomic<bool> never{false};
  if (!o_.interrupted) o_.interrupted = &never;

  Json journal;
  utsname host{};
  ::uname(&host);
  journal["chaoslib-version"] = std::string("faultline ") + FAULTLINE_VERSION;
  journal["platform"] = std::string(host.sysname) + "-" + host.release + "-" + host.machine;
  journal["node"] = host.nodename;
  journal["experiment"] = e_.document;
  const auto start = WallClock::now();
  journal["start"] = iso_time(start);
  journal["status"] = "completed";
  journal["deviated"] = false;
  journal["steady_states"] = {{"before", nullptr}, {"after", nullptr}, {"during", Json::array()}};
  journal["run"] = Json::array();
  journal["rollbacks"] = Json::array();

  log("INFO", "Running experiment: " + e_.title);
  const bool has_hypothesis = !e_.hypothesis.empty() || !e_.hypothesis_title.empty();
  bool method_started = false;
  bool before_met = true;
  if (has_hypothesis && o_.hypothesis != HypothesisStrategy::AfterMethodOnly) {
    journal["steady_states"]["before"] = hypothesis();
    before_met = journal["steady_states"]["before"]["steady_state_met"];
  }
  if (!before_met) {
    journal["status"] = "failed";
  } else if (!interrupted()) {
    log("INFO", "Playing your experiment's method now...");
    method_started = true;
    for (const auto& a : e_.method) {
      if (interrupted()) break;
      journal["run"].push_back(activity(a, nullptr));
    }
    if (!interrupted() && has_hypothesis && o_.hypothesis != HypothesisStrategy::BeforeMethodOnly) {
      journal["steady_states"]["after"] = hypothesis();
      if (!journal["steady_states"]["after"]["steady_state_met"].get<bool>()) {
        journal["deviated"] = true;
        journal["status"] = "failed";
      }
    }
  }
  if (interrupted()) {
    journal["status"] = "interrupted";
    log("WARNING", "Received an exit signal: the method stops here");
  }

  const bool deviated = journal["deviated"];
  const bool roll = o_.rollbacks == RollbackStrategy::Always ||
                    (o_.rollbacks == RollbackStrategy::Default && method_started) ||
                    (o_.rollbacks == RollbackStrategy::Deviated && deviated);
  if (roll) {
    log("INFO", "Let's rollback...");
    if (e_.rollbacks.empty()) log("INFO", "No declared rollbacks, let's move on.");
    // Rollbacks run even after Ctrl+C: they are what puts the system back.
    static const std::atomic<bool> keep_going{false};
    const std::atomic<bool>* saved = o_.interrupted;
    o_.interrupted = &keep_going;
    for (const auto& r : e_.rollbacks) journal["rollbacks"].push_back(activity(r, "Rollback"));
    o_.interrupted = saved;
  }
  const auto end = WallClock::now();
  journal["end"] = iso_time(end);
  journal["duration"] = std::chrono::duration<double>(end - start).count();
  if (deviated) log("INFO", "Experiment ended with status: deviated");
  else log("INFO", "Experiment ended with status: " + journal["status"].get<std::string>());
  if (deviated) log("INFO", "The steady-state has deviated, a weakness may have been discovered");
  return journal;
}

}  // namespace

Json run_experiment(const Experiment& experiment, const RunOptions& options) {
  Run run(experiment, options);
  return run.go();
}

}  // namespace faultline::experiment
