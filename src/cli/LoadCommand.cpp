#include "cli/LoadCommand.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <memory>

#include "load/HtmlReport.h"
#include "load/LoadReport.h"
#include "load/LoadRun.h"
#include "load/LoadSettings.h"

namespace faultline::cli {
namespace {

std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

// The command line's settings, plus what only the command line has.
struct LoadArgs : load::LoadSettings {
  bool live = false, quiet = false, no_check = false;
  std::string json_path, report_path;
};

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

load::LoadOptions to_options(LoadArgs a) {
  a.check_targets = !a.no_check;
  load::LoadOptions o = load::to_load_options(a);
  o.live = !a.quiet && (a.live || ::isatty(STDERR_FILENO));
  return o;
}

int run_load_command(const LoadArgs& args) {
  load::LoadOptions options;
  try {
    options = to_options(args);
  } catch (const std::exception& e) {
    fmt::print(stderr, "faultline load: {}\n", e.what());
    return 2;
  }
  interrupted = false;
  auto previous = std::signal(SIGINT, on_interrupt);
  load::LoadResult result;
  try {
    result = load::run_load(options, [] { return interrupted.load(); });
  } catch (const std::exception& e) {
    std::signal(SIGINT, previous);
    fmt::print(stderr, "faultline load: {}\n", e.what());
    return 1;
  }
  std::signal(SIGINT, previous);
  fmt::print("{}", load::summary_table(result));
  int status = 0;
  if (!args.json_path.empty() && !write_file(args.json_path, load::result_json(result).dump(2) + "\n")) {
    fmt::print(stderr, "faultline load: cannot write --json {}\n", args.json_path);
    status = 1;
  }
  if (!args.report_path.empty() && !write_file(args.report_path, load::html_report(result))) {
    fmt::print(stderr, "faultline load: cannot write --report {}\n", args.report_path);
    status = 1;
  }
  return result.interrupted && status == 0 ? 130 : status;
}

}  // namespace

void add_load_command(CLI::App& app, std::function<int()>& run) {
  auto args = std::make_shared<LoadArgs>();
  auto* sub = app.add_subcommand("load", "Send load to targets and measure what a client sees (latency percentiles, errors, time to recovery)");
  sub->footer(
      "Targets:\n"
      "  tcp://HOST:PORT            echo: --payload bytes out, the same bytes back\n"
      "  http://HOST:PORT/PATH      HTTP/1.1 keep-alive (--method, --header, --body, --expect-status)\n"
      "  redis://HOST:PORT          PING, or --mix get=80,set=20 over --keys keys\n"
      "  memcached://H1:P,H2:P,...  meta protocol mg/ms, keys spread over the servers (default mix get=80,set=20)\n"
      "Examples:\n"
      "  faultline load tcp://127.0.0.1:26007 --duration 30s --rate 2000/s --events http://localhost:8474\n"
      "  faultline load http://127.0.0.1:26080/ --concurrency 64 --duration 10s --json result.json --report report.html\n");
  sub->add_option("targets", args->targets, "One or more target URLs")->required();
  sub->add_option("--duration", args->duration, "How long to measure, after the warm-up (default 10s)");
  sub->add_option("--rate", args->rate, "Open loop: requests per second per target, e.g. 2000/s (latency counts from when each was due)");
  sub->add_option("--concurrency", args->concurrency, "Closed loop: clients per target, each sending as soon as it is answered (default 16)");
  sub->add_option("--connections", args->connections, "Open loop: connections per target (default 64)");
  sub->add_option("--threads", args->threads, "Threads per target (default 2)");
  sub->add_option("--timeout", args->timeout, "A request without its reply after this is a timeout (default 1s)");
  sub->add_flag("--new-connections", args->new_connections, "A new connection for every request");
  sub->add_option("--pipeline", args->pipeline, "Requests in flight per connection, answered in order (default 1: no pipelining)");
  sub->add_option("--interval", args->interval, "Reporting interval for the live line and the series (default 1s)");
  sub->add_option("--warmup", args->warmup, "Warm-up before measuring; also measures the baseline band (default 2s)");
  sub->add_option("--json", args->json_path, "Write the results, series, events and fault windows as JSON");
  sub->add_option("--report", args->report_path, "Write a self-contained HTML report with plots");
  sub->add_option("--events", args->events, "A faultline API URL: follow its event stream and report each fault window");
  sub->add_option("--payload", args->payload, "tcp: bytes per request; redis/memcached: value size (default 64)");
  sub->add_option("--method", args->method, "http: request method (default GET)");
  sub->add_option("--header", args->headers, "http: an extra header \"Name: value\" (repeatable)");
  sub->add_option("--body", args->body, "http: request body");
  sub->add_option("--expect-status", args->expect_status, "http: the status a reply must have (default any 2xx)");
  sub->add_option("--mix", args->mix, "redis/memcached: operation weights, e.g. get=80,set=20");
  sub->add_option("--keys", args->keys, "redis/memcached: size of the key space (default 1000)");
  sub->add_option("--seed", args->seed, "Seed for keys and payloads (default 1)");
  sub->add_flag("--live", args->live, "Print the live line even when stderr is not a terminal");
  sub->add_flag("--quiet", args->quiet, "No live line");
  sub->add_flag("--no-check", args->no_check, "Start even if a target does not accept a connection now");
  sub->callback([args, &run] { run = [args] { return run_load_command(*args); }; });
}

}  // namespace faultline::cli
