#include "experiment/Runner.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <mutex>
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

// The runtime block's setting at `key`.`field`, when it has one.
std::optional<std::string> runtime_text(const Experiment& e, const char* key, const char* field) {
  if (!e.runtime.contains(key) || !e.runtime[key].is_object() || !e.runtime[key].contains(field)) return std::nullopt;
  const Json& v = e.runtime[key][field];
  if (!v.is_string()) throw ExperimentError(fmt::format("{}: runtime.{}.{}: must be a string", e.path, key, field));
  return v.get<std::string>();
}

class Run {
 public:
  Run(const Experiment& e, RunOptions o) : e_(e), o_(std::move(o)) {
    const std::string at = e.path + ": runtime.";
    if (!o_.rollbacks) {
      const auto text = runtime_text(e, "rollbacks", "strategy");
      o_.rollbacks = text ? parse_rollback_strategy(*text, at + "rollbacks.strategy") : RollbackStrategy::Default;
    }
    if (!o_.hypothesis) {
      const auto text = runtime_text(e, "hypothesis", "strategy");
      o_.hypothesis = text ? parse_hypothesis_strategy(*text, at + "hypothesis.strategy") : HypothesisStrategy::Default;
    }
    const Json h = e.runtime.value("hypothesis", Json::object());
    if (!o_.hypothesis_frequency_s) {
      o_.hypothesis_frequency_s = 1.0;
      if (h.is_object() && h.contains("frequency")) {
        if (!h["frequency"].is_number() || h["frequency"].get<double>() <= 0)
          throw ExperimentError(at + "hypothesis.frequency: must be a number of seconds above 0");
        o_.hypothesis_frequency_s = h["frequency"].get<double>();
      }
    }
    if (h.is_object() && h.value("fail_fast", false)) o_.fail_fast = true;
  }

  Json go();

 private:
  bool interrupted() const { return o_.interrupted->load() || halted_.load(); }

  void log(const char* level, const std::string& message) const {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    const std::string_view l(level);
    // The toolkit's colours: errors red, warnings yellow, the rest plain.
    const char* colour = !o_.colour ? nullptr : l == "WARNING" ? "33" : l == "INFO" ? nullptr : "31";
    std::lock_guard lock(log_mutex_);
    if (colour) std::fprintf(o_.log, "\033[%sm", colour);
    std::fprintf(o_.log, "[%s %s] %s%s\n", stamp, level, message.c_str(), colour ? "\033[0m" : "");
    std::fflush(o_.log);
  }

  // Sleeps, but Ctrl+C (or a fail-fast stop) ends the pause at once.
  void sleep_for(double seconds) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until && !interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  void pause(const Json& pauses, const char* when) const {
    if (!pauses.is_object() || !pauses.contains(when) || !pauses[when].is_number()) return;
    const double seconds = pauses[when].get<double>();
    if (o_.dry == DryMode::Pause) return;
    log("INFO", fmt::format("Pausing {} activity for {}s...", when, seconds));
    sleep_for(seconds);
  }

  bool skipped_by_dry(const Json& a) const {
    const bool probe = text_of(a, "type") == "probe";
    return o_.dry == DryMode::Activities || (o_.dry == DryMode::Probes && probe) || (o_.dry == DryMode::Actions && !probe);
  }

  // Runs the provider within the activity's own `timeout` (seconds), which
  // every provider honours; taking longer is a failure.
  Json provide(const Json& a, Json& values) const {
    ActivityContext context{values, *o_.interrupted};
    context.halted = &halted_;
    double timeout_s = 0;
    if (a.contains("timeout") && a["timeout"].is_number() && a["timeout"].get<double>() > 0) {
      timeout_s = a["timeout"].get<double>();
      context.deadline = ActivityContext::Clock::now() + std::chrono::duration_cast<ActivityContext::Clock::duration>(
                                                              std::chrono::duration<double>(timeout_s));
    }
    try {
      return run_provider(a["provider"], context);
    } catch (const ActivityFailed&) {
      if (timeout_s > 0 && context.expired())
        throw ActivityFailed(fmt::format("the activity took longer than its timeout of {} s", timeout_s));
      throw;
    } catch (const Json::exception& e) {
      throw ActivityFailed(std::string("a provider field has the wrong type: ") + e.what());
    } catch (const ExperimentError& e) {
      throw ActivityFailed(e.what());
    }
  }

  // One activity: substituted, paused around, run; its journal entry.
  Json activity(const Json& declared, const char* label, Json& values) const {
    const Json a = substitute(declared, values);
    const std::string type = text_of(a, "type", "action");
    const std::string kind = label ? label : (type == "probe" ? "Probe" : "Action");
    log("INFO", fmt::format("{}: {}", kind, text_of(a, "name")));
    pause(a.value("pauses", Json()), "before");
    Json entry;
    entry["activity"] = a;
    const auto start = WallClock::now();
    entry["status"] = "succeeded";
    entry["output"] = nullptr;
    if (!skipped_by_dry(a)) {
      try {
        entry["output"] = provide(a, values);
      } catch (const ActivityFailed& failure) {
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
  Json hypothesis(Json& values) const {
    Json state;
    state["steady_state_met"] = true;
    state["probes"] = Json::array();
    log("INFO", "Steady-state hypothesis: " + e_.hypothesis_title);
    for (const auto& probe : e_.hypothesis) {
      if (interrupted()) break;
      Json entry = activity(probe, nullptr, values);
      bool met = true;
      if (entry["status"] == "failed") {
        met = false;
      } else if (!skipped_by_dry(entry["activity"])) {
        ActivityContext context{values, *o_.interrupted};
        ToleranceResult r;
        try {
          r = within_tolerance(substitute(probe["tolerance"], values), entry["output"], context);
        } catch (const std::exception& e) {  // a tolerance that is not one (validate names it first)
          r.why = std::string("the tolerance cannot be checked: ") + e.what();
        }
        met = r.met;
        if (!met) log("ERROR", fmt::format("  => {}", r.why));
      }
      entry["tolerance_met"] = met;
      state["probes"].push_back(entry);
      if (!met) {
        log("CRITICAL", fmt::format("Steady state probe '{}' is not in the given tolerance so failing this experiment",
                                    text_of(probe, "name")));
        state["steady_state_met"] = false;
        return state;
      }
    }
    log("INFO", "Steady state hypothesis is met!");
    return state;
  }

  // The method: activities in order, background ones on their own thread;
  // all joined before it returns. Entries keep the declared order.
  Json method() {
    std::vector<Json> entries(e_.method.size());
    std::vector<std::thread> background;
    for (size_t i = 0; i < e_.method.size(); ++i) {
      if (interrupted()) break;
      const Json& a = e_.method[i];
      if (a.value("background", false)) {
        log("INFO", fmt::format("Running '{}' in the background", text_of(a, "name")));
        background.emplace_back([this, i, &entries, &a, values = values_]() mutable { entries[i] = activity(a, nullptr, values); });
      } else {
        entries[i] = activity(a, nullptr, values_);
      }
    }
    if (!background.empty()) log("INFO", "Waiting for the background activities to finish...");
    for (auto& t : background) t.join();
    Json run = Json::array();
    for (auto& entry : entries)
      if (!entry.is_null()) run.push_back(std::move(entry));
    return run;
  }

  // The hypothesis checked while the method runs, on its own thread.
  void check_during(Json& during, std::atomic<bool>& method_over) {
    Json values = values_;
    while (!method_over && !interrupted()) {
      Json state = hypothesis(values);
      const bool met = state["steady_state_met"].get<bool>();
      {
        std::lock_guard lock(during_mutex_);
        during.push_back(std::move(state));
      }
      if (!met) {
        deviated_during_ = true;
        if (o_.fail_fast) {
          log("CRITICAL", "The steady state deviated during the method: stopping it (--fail-fast)");
          halted_ = true;
          return;
        }
      }
      const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(*o_.hypothesis_frequency_s);
      while (!method_over && !interrupted() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  bool checks_before() const {
    return o_.hypothesis == HypothesisStrategy::Default || o_.hypothesis == HypothesisStrategy::BeforeMethodOnly ||
           o_.hypothesis == HypothesisStrategy::Continuously;
  }
  bool checks_during() const {
    return o_.hypothesis == HypothesisStrategy::DuringMethodOnly || o_.hypothesis == HypothesisStrategy::Continuously;
  }
  bool checks_after() const {
    return o_.hypothesis == HypothesisStrategy::Default || o_.hypothesis == HypothesisStrategy::AfterMethodOnly ||
           o_.hypothesis == HypothesisStrategy::Continuously;
  }

  void check_providers() const {
    auto check = [](const std::vector<Json>& list, const std::string& where) {
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = where + "[" + std::to_string(i) + "]";
        check_provider(list[i]["provider"], at + ".provider");
        const Json& t = list[i].value("tolerance", Json());
        if (is_probe_tolerance(t)) check_provider(t.value("provider", Json::object()), at + ".tolerance.provider");
      }
    };
    check(e_.hypothesis, e_.path + ": steady-state-hypothesis.probes");
    check(e_.method, e_.path + ": method");
    check(e_.rollbacks, e_.path + ": rollbacks");
  }

  void run_rollbacks(Json& journal) {
    log("INFO", "Let's rollback...");
    if (e_.rollbacks.empty()) log("INFO", "No declared rollbacks, let's move on.");
    // Rollbacks run even after Ctrl+C or a fail-fast stop: they are what
    // puts the system back.
    static const std::atomic<bool> keep_going{false};
    const std::atomic<bool>* saved = o_.interrupted;
    o_.interrupted = &keep_going;
    halted_ = false;
    for (const auto& r : e_.rollbacks) journal["rollbacks"].push_back(activity(r, "Rollback", values_));
    o_.interrupted = saved;
  }

  const Experiment& e_;
  RunOptions o_;
  Json values_;
  mutable std::mutex log_mutex_;
  std::mutex during_mutex_;
  std::atomic<bool> halted_{false};          // fail-fast: the method stops
  std::atomic<bool> deviated_during_{false};
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
  if (has_hypothesis && checks_before()) {
    journal["steady_states"]["before"] = hypothesis(values_);
    before_met = journal["steady_states"]["before"]["steady_state_met"];
  }
  if (!before_met) {
    journal["status"] = "failed";
  } else if (!interrupted()) {
    log("INFO", "Playing your experiment's method now...");
    method_started = true;
    std::atomic<bool> method_over{false};
    Json during = Json::array();
    std::thread checker;
    if (has_hypothesis && checks_during()) checker = std::thread([&] { check_during(during, method_over); });
    journal["run"] = method();
    method_over = true;
    if (checker.joinable()) checker.join();
    journal["steady_states"]["during"] = std::move(during);
    if (deviated_during_) {
      journal["deviated"] = true;
      journal["status"] = "failed";
    }
    if (!interrupted() && has_hypothesis && checks_after()) {
      journal["steady_states"]["after"] = hypothesis(values_);
      if (!journal["steady_states"]["after"]["steady_state_met"].get<bool>()) {
        journal["deviated"] = true;
        journal["status"] = "failed";
      }
    }
  }
  if (o_.interrupted->load()) {
    journal["status"] = "interrupted";
    log("WARNING", "Received an exit signal: the method stops here");
  }

  const bool deviated = journal["deviated"];
  const bool roll = o_.rollbacks == RollbackStrategy::Always ||
                    (o_.rollbacks == RollbackStrategy::Default && method_started) ||
                    (o_.rollbacks == RollbackStrategy::Deviated && deviated);
  if (roll) run_rollbacks(journal);
  const auto end = WallClock::now();
  journal["end"] = iso_time(end);
  journal["duration"] = std::chrono::duration<double>(end - start).count();
  if (deviated) log("INFO", "Experiment ended with status: deviated");
  else log("INFO", "Experiment ended with status: " + journal["status"].get<std::string>());
  if (deviated) log("INFO", "The steady-state has deviated, a weakness may have been discovered");
  return journal;
}

}  // namespace

RollbackStrategy parse_rollback_strategy(const std::string& text, const std::string& what) {
  if (text == "default") return RollbackStrategy::Default;
  if (text == "always") return RollbackStrategy::Always;
  if (text == "never") return RollbackStrategy::Never;
  if (text == "deviated") return RollbackStrategy::Deviated;
  throw ExperimentError(fmt::format("invalid {} \"{}\" (allowed: default, always, never, deviated)", what, text));
}

HypothesisStrategy parse_hypothesis_strategy(const std::string& text, const std::string& what) {
  if (text == "default") return HypothesisStrategy::Default;
  if (text == "before-method-only") return HypothesisStrategy::BeforeMethodOnly;
  if (text == "after-method-only") return HypothesisStrategy::AfterMethodOnly;
  if (text == "during-method-only") return HypothesisStrategy::DuringMethodOnly;
  if (text == "continuously") return HypothesisStrategy::Continuously;
  throw ExperimentError(fmt::format(
      "invalid {} \"{}\" (allowed: default, before-method-only, after-method-only, during-method-only, continuously)", what, text));
}

void check_runtime(const Experiment& experiment, const RunOptions& options) { Run run(experiment, options); }

Json run_experiment(const Experiment& experiment, const RunOptions& options) {
  Run run(experiment, options);
  return run.go();
}

}  // namespace faultline::experiment
