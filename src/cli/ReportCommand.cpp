#include "cli/ReportCommand.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "experiment/JournalReport.h"

namespace faultline::cli {
namespace {

struct ReportArgs {
  std::vector<std::string> journals;
  std::string html_path;
};

int report_command(const ReportArgs& a) {
  std::vector<experiment::Json> journals;
  try {
    for (const auto& path : a.journals) journals.push_back(experiment::load_journal(path));
  } catch (const experiment::ExperimentError& e) {
    fmt::print(stderr, "faultline report: {}\n", e.what());
    return 2;
  }
  for (size_t i = 0; i < journals.size(); ++i) fmt::print("{}{}", i ? "\n" : "", experiment::journal_summary(journals[i]));
  if (!a.html_path.empty()) {
    std::ofstream out(a.html_path, std::ios::binary | std::ios::trunc);
    out << experiment::journal_html(journals);
    if (!out) {
      fmt::print(stderr, "faultline report: cannot write --html {}\n", a.html_path);
      return 1;
    }
    fmt::print("\nreport written to {}\n", a.html_path);
  }
  return 0;
}

}  // namespace

void add_report_command(CLI::App& app, std::function<int()>& run) {
  auto args = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand("report", "Summarise experiment journals (faultline run's or the Chaos Toolkit's), optionally as an HTML page");
  sub->footer("Examples:\n  faultline report journal.json\n  faultline report journal-*.json --html report.html\n");
  sub->add_option("journals", args->journals, "Journal files")->required();
  sub->add_option("--html", args->html_path, "Also write a self-contained HTML report (timeline, outputs, tolerances)");
  sub->callback([args, &run] { run = [args] { return report_command(*args); }; });
}

}  // namespace faultline::cli
