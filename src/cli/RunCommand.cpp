#include "cli/RunCommand.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "experiment/Runner.h"
#include "experiment/Validate.h"
#include "experiment/Variables.h"

namespace faultline::cli {
namespace {

namespace fs = std::filesystem;
using experiment::ExperimentError;
using experiment::Json;

std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

struct RunArgs {
  std::vector<std::string> paths, vars, var_files;
  std::string journal_path = "journal.json", dry, rollback_strategy, hypothesis_strategy;  // empty: the experiment's runtime, else default
  std::optional<double> hypothesis_frequency;
  bool fail_fast = false;
};

// The experiments named: files as given, folders by their *.json/*.yaml/*.yml in name order.
std::vector<std::string> experiments_in(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(p)) {
        const std::string ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".json" || ext == ".yaml" || ext == ".yml")) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) throw ExperimentError(p + ": no experiment (*.json, *.yaml, *.yml) in this folder");
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

// One experiment: --journal-path; several: one journal each beside it, named after the experiment.
std::string journal_for(const RunArgs& a, const std::string& experiment, bool several) {
  if (!several) return a.journal_path;
  const fs::path base(a.journal_path);
  const std::string stem = fs::path(experiment).stem();
  return (base.parent_path() / (base.stem().string() + "-" + stem + base.extension().string())).string();
}

experiment::RunOptions options_from(const RunArgs& a) {
  experiment::RunOptions o;
  for (const auto& f : a.var_files) {
    const Json values = experiment::read_var_file(f);  // a named value: items() of a temporary would dangle
    for (const auto& [k, v] : values.items()) o.overrides[k] = v;
  }
  for (const auto& v : a.vars) {
    auto [key, value] = experiment::parse_var(v);
    o.overrides[key] = value;
  }
  if (a.dry == "") o.dry = experiment::DryMode::None;
  else if (a.dry == "probes") o.dry = experiment::DryMode::Probes;
  else if (a.dry == "actions") o.dry = experiment::DryMode::Actions;
  else if (a.dry == "activities") o.dry = experiment::DryMode::Activities;
  else if (a.dry == "pause") o.dry = experiment::DryMode::Pause;
  else throw ExperimentError("invalid --dry \"" + a.dry + "\" (allowed: probes, actions, activities, pause)");
  if (!a.rollback_strategy.empty()) o.rollbacks = experiment::parse_rollback_strategy(a.rollback_strategy, "--rollback-strategy");
  if (!a.hypothesis_strategy.empty())
    o.hypothesis = experiment::parse_hypothesis_strategy(a.hypothesis_strategy, "--hypothesis-strategy");
  if (a.hypothesis_frequency) {
    if (!(*a.hypothesis_frequency > 0 && *a.hypothesis_frequency <= 86400))
      throw ExperimentError(fmt::format("invalid --hypothesis-frequency {} (allowed: above 0 to 86400 seconds)", *a.hypothesis_frequency));
    o.hypothesis_frequency_s = a.hypothesis_frequency;
  }
  o.fail_fast = a.fail_fast;
  o.interrupted = &interrupted;
  o.colour = ::isatty(STDERR_FILENO) && !std::getenv("NO_COLOR");
  return o;
}

int run_command(const RunArgs& a) {
  std::vector<std::string> files;
  experiment::RunOptions options;
  try {
    files = experiments_in(a.paths);
    options = options_from(a);
  } catch (const ExperimentError& e) {
    fmt::print(stderr, "faultline run: {}\n", e.what());
    return 2;
  }
  interrupted = false;
  auto previous = std::signal(SIGINT, on_interrupt);
  int passed = 0, failed = 0;
  std::vector<std::pair<std::string, bool>> results;
  for (const auto& file : files) {
    bool ok = false;
    std::string title = file;
    try {
      const experiment::Experiment e = experiment::load_experiment(file);
      title = e.title;
      const Json journal = experiment::run_experiment(e, options);
      ok = experiment::passed(journal);
      const std::string path = journal_for(a, file, files.size() > 1);
      std::ofstream out(path, std::ios::trunc);
      out << journal.dump(2) << "\n";
      if (!out) fmt::print(stderr, "faultline run: cannot write the journal {}\n", path);
    } catch (const ExperimentError& e) {
      fmt::print(stderr, "faultline run: {}\n", e.what());
    } catch (const std::exception& e) {  // never a crash, whatever the file holds
      fmt::print(stderr, "faultline run: {}: {}\n", file, e.what());
    }
    results.emplace_back(title, ok);
    (ok ? passed : failed)++;
    if (interrupted || (!ok && a.fail_fast)) break;
  }
  std::signal(SIGINT, previous);
  if (files.size() > 1) {
    fmt::print("\n");
    for (const auto& [title, ok] : results) fmt::print("{} {} {}\n", ok ? "\u2713" : "\u2717", title, ok ? "PASSED" : "FAILED");
    fmt::print("Passed: {}\nFailed: {}\n", passed, failed);
  }
  if (interrupted) return 130;
  return failed == 0 ? 0 : 1;
}

}  // namespace

int validate_command(const std::vector<std::string>& paths, const std::vector<std::string>& vars) {
  Json overrides = Json::object();
  std::vector<std::string> files;
  try {
    for (const auto& v : vars) {
      auto [key, value] = experiment::parse_var(v);
      overrides[key] = value;
    }
    files = experiments_in(paths);
  } catch (const ExperimentError& e) {
    fmt::print(stderr, "faultline validate: {}\n", e.what());
    return 2;
  }
  int bad = 0;
  for (const auto& file : files) {
    const auto problems = experiment::validate_experiment(file, overrides);
    if (problems.empty()) fmt::print("{}: ok\n", file);
    for (const auto& p : problems) fmt::print("{}\n", p);
    if (!problems.empty()) ++bad;
  }
  return bad == 0 ? 0 : 1;
}

void add_run_command(CLI::App& app, std::function<int()>& run) {
  auto checked = std::make_shared<RunArgs>();
  auto* validate = app.add_subcommand("validate", "Check experiments without running them (each problem with its path)");
  validate->add_option("paths", checked->paths, "Experiment files or folders")->required();
  validate->add_option("--var", checked->vars, "A value, as for run");
  validate->callback([checked, &run] { run = [checked] { return validate_command(checked->paths, checked->vars); }; });

  auto args = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand("run", "Run Chaos Toolkit experiments (JSON or YAML files, or folders of them)");
  sub->footer(
      "Examples:\n"
      "  faultline run experiments/network-latency.json --journal-path journal.json\n"
      "  faultline run experiments/ --var toxiproxy_host=127.0.0.1\n"
      "  faultline run experiment.yaml --dry actions\n");
  sub->add_option("paths", args->paths, "Experiment files or folders")->required();
  sub->add_option("--journal-path", args->journal_path, "Where the journal goes (default journal.json; several experiments: journal-NAME.json)");
  sub->add_option("--var", args->vars, "A value: key=value, key:int=N, key:float=X, key:bool=true (repeatable; wins over the file)");
  sub->add_option("--var-file", args->var_files, "Values from a JSON, YAML or .env file (repeatable)");
  sub->add_option("--dry", args->dry, "Do not run: probes, actions, activities (both) or pause (skip pauses)");
  sub->add_option("--rollback-strategy", args->rollback_strategy, "default, always, never or deviated (default: the experiment's runtime block, else default)");
  sub->add_option("--hypothesis-strategy", args->hypothesis_strategy,
                  "default (before and after), before-method-only, after-method-only, during-method-only or continuously");
  sub->add_option("--hypothesis-frequency", args->hypothesis_frequency, "Seconds between checks during the method (default 1)");
  sub->add_flag("--fail-fast", args->fail_fast,
                "Stop the method as soon as the steady state deviates during it; in a folder run, stop at the first experiment that fails");
  sub->callback([args, &run] { run = [args] { return run_command(*args); }; });
}

}  // namespace faultline::cli
