#include "cli/CommandLine.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <functional>

#include "cli/Commands.h"
#include "cli/Completion.h"
#include "cli/LoadCommand.h"
#include "cli/RunCommand.h"
#include "cli/ReportCommand.h"
#include "cli/Units.h"

namespace faultline::cli {
namespace {

constexpr const char* kDefaultUrl = "http://localhost:8474";

// Everything the parsed command line asks for. CLI11 writes into these
// fields; the chosen command's callback stores what to run in `action`.
struct Invocation {
  std::string host;
  bool json = false;
  std::function<void(Context&)> action;
  std::string offline_output;  // commands that need no server (completion)
  bool offline = false;
  std::function<int()> standalone;  // commands that run by themselves (load) and return their exit status

  // Option values of the individual commands.
  std::string proxy, name, listen, upstream, type, value, timeout, jitter, direction, shell;
  std::optional<double> toxicity;
  std::vector<std::string> attributes;
  bool markdown = false;
  bool up_flag = false, down_flag = false;
  // schedules
  std::string for_duration, mode, up, down, stream, over, period, shape, then, toxic, file, attribute;
  int64_t iterations = 0, steps = 0;
  std::optional<double> from, to, min, max;
  bool wait = false;
  // HTTP faults
  std::string path;
  std::vector<std::string> methods;
  std::optional<double> rate;
  std::string at;          // http-delay: request or response
  int64_t after_bytes = 0;  // http-abort mid_response
  std::string abort_mode;   // http-abort: reset or close
};

// The --host flag wins, then FAULTLINE_URL, then Toxiproxy's TOXIPROXY_URL.
std::string server_url(const Invocation& in) {
  if (!in.host.empty()) return in.host;
  for (const char* name : {"FAULTLINE_URL", "TOXIPROXY_URL"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return kDefaultUrl;
}

CLI::App* command(CLI::App& parent, const std::string& name, const std::string& help, const std::string& example,
                  std::initializer_list<const char*> aliases = {}) {
  CLI::App* sub = parent.add_subcommand(name, help);
  for (const char* alias : aliases) sub->alias(alias);
  sub->footer("Example:\n  " + example + "\n");
  return sub;
}

void add_json_flag(CLI::App* sub, Invocation& in) {
  sub->add_flag("--json", in.json, "Print the API's JSON instead of text");
}

// ---- reference commands ---------------------------------------------------

void add_proxy_commands(CLI::App& app, Invocation& in) {
  auto* list = command(app, "list", "List all proxies", "faultline list", {"l", "li", "ls"});
  add_json_flag(list, in);
  list->callback([&] { in.action = [](Context& ctx) { list_proxies(ctx); }; });

  auto* inspect = command(app, "inspect", "Show a proxy and its toxics", "faultline inspect redis", {"i", "ins"});
  inspect->add_option("proxy", in.proxy, "Proxy name")->required();
  add_json_flag(inspect, in);
  inspect->callback([&] { in.action = [&](Context& ctx) { inspect_proxy(ctx, in.proxy); }; });

  auto* create = command(app, "create", "Create a proxy",
                         "faultline create redis -l 127.0.0.1:26379 -u 127.0.0.1:6379", {"c", "new"});
  create->add_option("proxy", in.proxy, "Proxy name")->required();
  create->add_option("-l,--listen", in.listen, "Address to listen on, HOST:PORT")->required();
  create->add_option("-u,--upstream", in.upstream, "Address to forward to, HOST:PORT")->required();
  add_json_flag(create, in);
  create->callback([&] { in.action = [&](Context& ctx) { create_proxy(ctx, in.proxy, in.listen, in.upstream); }; });

  auto* toggle = command(app, "toggle", "Enable a disabled proxy, disable an enabled one", "faultline toggle redis",
                         {"tog"});
  toggle->add_option("proxy", in.proxy, "Proxy name")->required();
  toggle->callback([&] { in.action = [&](Context& ctx) { toggle_proxy(ctx, in.proxy); }; });

  auto* remove = command(app, "delete", "Delete a proxy", "faultline delete redis", {"d"});
  remove->add_option("proxy", in.proxy, "Proxy name")->required();
  remove->callback([&] { in.action = [&](Context& ctx) { delete_proxy(ctx, in.proxy); }; });
}

void add_toxic_options(CLI::App* sub, Invocation& in) {
  sub->add_option("--tox,--toxicity", in.toxicity, "Probability the toxic applies to a connection, 0..1");
  sub->add_option("-a,--attribute", in.attributes, "Toxic attribute key=value (repeatable)")->allow_extra_args(false);
  add_json_flag(sub, in);
}

void add_toxic_commands(CLI::App& app, Invocation& in) {
  auto* toxic = command(app, "toxic", "Add, update, remove or list toxics",
                        "faultline toxic add redis -t latency -a latency=1000", {"t"});
  toxic->require_subcommand(1);

  auto* add = command(*toxic, "add", "Add a toxic to a proxy",
                      "faultline toxic add redis -t latency -a latency=1000 -a jitter=50 --upstream", {"a"});
  add->add_option("proxy", in.proxy, "Proxy name")->required();
  add->add_option("-t,--type", in.type, "Toxic type: " + toxic_type_names() + " (see: faultline toxic types)")->required();
  add->add_option("-n,--toxicName", in.name, "Toxic name (default TYPE_STREAM)");
  add_toxic_options(add, in);
  auto* up = add->add_flag("-u,--upstream", in.up_flag, "Apply to data from the client to the upstream");
  add->add_flag("-d,--downstream", in.down_flag, "Apply to data from the upstream to the client (default)")
      ->excludes(up);
  add->callback([&] {
    in.action = [&](Context& ctx) {
      add_toxic(ctx, {in.proxy, in.type, in.name, in.toxicity, in.attributes, in.up_flag});
    };
  });

  auto* update = command(*toxic, "update", "Change a toxic's attributes or toxicity",
                         "faultline toxic update redis -n latency_downstream -a latency=2000", {"u"});
  update->add_option("proxy", in.proxy, "Proxy name")->required();
  update->add_option("-n,--toxicName", in.name, "Toxic name")->required();
  add_toxic_options(update, in);
  update->callback([&] {
    in.action = [&](Context& ctx) { update_toxic(ctx, in.proxy, in.name, in.toxicity, in.attributes); };
  });

  auto* remove = command(*toxic, "remove", "Remove a toxic", "faultline toxic remove redis -n latency_downstream",
                         {"r", "delete", "d"});
  remove->add_option("proxy", in.proxy, "Proxy name")->required();
  remove->add_option("-n,--toxicName", in.name, "Toxic name")->required();
  remove->callback([&] { in.action = [&](Context& ctx) { remove_toxic(ctx, in.proxy, in.name); }; });

  auto* types = command(*toxic, "types", "List the toxic types and their attributes (no server needed)",
                        "faultline toxic types", {});
  types->add_flag("--markdown", in.markdown, "Print markdown tables, as in docs/toxics.md");
  types->callback([&] { in.action = [&](Context&) { print_toxic_types(in.markdown); }; });

  auto* list = command(*toxic, "list", "List a proxy's toxics", "faultline toxic list redis --json", {"ls"});
  list->add_option("proxy", in.proxy, "Proxy name")->required();
  add_json_flag(list, in);
  list->callback([&] { in.action = [&](Context& ctx) { list_toxics(ctx, in.proxy); }; });
}

// ---- operator shortcuts ---------------------------------------------------

// The value "off" removes the shortcut's toxics instead of setting them;
// without --direction it then removes both directions.
bool is_off(const std::string& value) { return value == "off" || value == "remove"; }

Direction shortcut_direction(const Invocation& in) {
  if (in.direction.empty()) return is_off(in.value) ? Direction::Both : Direction::Down;
  return parse_direction(in.direction);
}

// Parses a command-line value, turning a unit error into a CommandError.
template <typename Parse>
int64_t parse_value(Parse parse, const std::string& text) {
  try {
    return parse(text);
  } catch (const UnitError& error) {
    throw CommandError(fmt::format("Invalid value: {}", error.what()));
  }
}

void run_shortcut(Context& ctx, const Invocation& in, const std::string& type, nlohmann::json attributes) {
  if (is_off(in.value)) return remove_shortcut(ctx, in.proxy, type, shortcut_direction(in));
  check_toxicity(in.toxicity);
  std::optional<int64_t> for_ms;
  if (!in.for_duration.empty()) for_ms = parse_value(parse_duration_ms, in.for_duration);
  apply_shortcut(ctx, {in.proxy, type, shortcut_direction(in), std::move(attributes), in.toxicity.value_or(1.0), for_ms});
}

CLI::App* shortcut(CLI::App& app, Invocation& in, const std::string& name, const std::string& help,
                   const std::string& example, const std::string& value_help, bool value_required) {
  auto* sub = command(app, name, help, example);
  sub->add_option("proxy", in.proxy, "Proxy name")->required();
  sub->add_option("value", in.value, value_help + "; 'off' removes the toxic")->required(value_required);
  sub->add_option("--direction", in.direction,
                  "up (client to upstream), down (upstream to client, default) or both");
  sub->add_option("--tox,--toxicity", in.toxicity, "Probability the toxic applies to a connection, 0..1");
  sub->add_option("--for", in.for_duration, "Remove it by itself after this long, e.g. 30s (the server does it)");
  return sub;
}

// ---- HTTP faults ----------------------------------------------------------

// An HTTP shortcut: PROXY VALUE plus the request matchers. HTTP toxics act on
// requests (the upstream stream) and answer downstream; --rate is the share
// of matching requests, drawn per request.
CLI::App* http_shortcut(CLI::App& app, Invocation& in, const std::string& name, const std::string& help,
                        const std::string& example, const std::string& value_help) {
  auto* sub = command(app, name, help, example);
  sub->add_option("proxy", in.proxy, "Proxy name")->required();
  sub->add_option("value", in.value, value_help + "; 'off' removes the toxic")->required();
  sub->add_option("--path", in.path, "Only this path: exact, or a glob with * (\"/api/*\")");
  sub->add_option("--method", in.methods, "Only these methods (repeat, or GET,POST)")->delimiter(',');
  sub->add_option("--rate", in.rate, "Share of matching requests that get it, 0..1 (default 1)");
  sub->add_option("--for", in.for_duration, "Remove it by itself after this long, e.g. 30s (the server does it)");
  return sub;
}

// Adds (or updates) the HTTP toxic `type` with the matchers and `attributes`.
void apply_http_shortcut(Context& ctx, const Invocation& in, const std::string& type, nlohmann::json attributes) {
  check_toxicity(in.rate);
  std::optional<int64_t> for_ms;
  if (!in.for_duration.empty()) for_ms = parse_value(parse_duration_ms, in.for_duration);
  attributes["path"] = in.path;
  attributes["method"] = in.methods;
  apply_shortcut(ctx, {in.proxy, type, Direction::Up, std::move(attributes), in.rate.value_or(1.0), for_ms});
}

int64_t parse_status(const std::string& text) {
  int64_t status = 0;
  try {
    size_t used = 0;
    status = std::stoll(text, &used);
    if (used != text.size()) status = 0;
  } catch (const std::exception&) {
  }
  if (status < 100 || status > 599) throw CommandError(fmt::format("Invalid status '{}': use 100 to 599", text));
  return status;
}

void add_http_shortcuts(CLI::App& app, Invocation& in) {
  auto* error = http_shortcut(app, in, "http-error", "Answer matching HTTP requests with an error status",
                              "faultline http-error web 503 --path '/api/*' --method POST --rate 0.2", "Status, 100 to 599");
  error->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return remove_shortcut(ctx, in.proxy, "http_error", Direction::Up);
      apply_http_shortcut(ctx, in, "http_error", {{"status", parse_status(in.value)}});
    };
  });

  auto* delay = http_shortcut(app, in, "http-delay", "Delay matching HTTP requests (or their responses)",
                              "faultline http-delay web 300ms --path /search --jitter 50ms", "Delay, e.g. 300ms, 2s (plain number: ms)");
  delay->add_option("--jitter", in.jitter, "Random spread around the delay, e.g. 50ms");
  delay->add_option("--at", in.at, "request (before it is forwarded, default) or response (before its first byte)")
      ->check(CLI::IsMember({"request", "response"}));
  delay->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return remove_shortcut(ctx, in.proxy, "http_delay", Direction::Up);
      nlohmann::json attributes = {{"delay", parse_value(parse_duration_ms, in.value)}, {"at", in.at.empty() ? "request" : in.at}};
      if (!in.jitter.empty()) attributes["jitter"] = parse_value(parse_duration_ms, in.jitter);
      apply_http_shortcut(ctx, in, "http_delay", std::move(attributes));
    };
  });

  auto* abort = http_shortcut(app, in, "http-abort", "Cut the connection of matching HTTP requests",
                              "faultline http-abort web after_request --path /pay --mode reset",
                              "Where: before_request, after_request or mid_response");
  abort->add_option("--after-bytes", in.after_bytes, "mid_response: body bytes the client gets first");
  abort->add_option("--mode", in.abort_mode, "reset (RST, default) or close (FIN)")->check(CLI::IsMember({"reset", "close"}));
  abort->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return remove_shortcut(ctx, in.proxy, "http_abort", Direction::Up);
      if (in.value != "before_request" && in.value != "after_request" && in.value != "mid_response")
        throw CommandError(fmt::format("Invalid point '{}': use before_request, after_request or mid_response", in.value));
      apply_http_shortcut(ctx, in, "http_abort",
                          {{"at", in.value}, {"after_bytes", in.after_bytes}, {"mode", in.abort_mode.empty() ? "reset" : in.abort_mode}});
    };
  });
}

void add_shortcuts(CLI::App& app, Invocation& in) {
  auto* down = command(app, "down", "Disable a proxy: new connections are refused", "faultline down redis");
  down->add_option("proxy", in.proxy, "Proxy name")->required();
  down->callback([&] { in.action = [&](Context& ctx) { set_enabled(ctx, in.proxy, false); }; });

  auto* up = command(app, "up", "Enable a proxy again", "faultline up redis");
  up->add_option("proxy", in.proxy, "Proxy name")->required();
  up->callback([&] { in.action = [&](Context& ctx) { set_enabled(ctx, in.proxy, true); }; });

  auto* latency = shortcut(app, in, "latency", "Add latency (or update it if already there)",
                           "faultline latency redis 1500 --jitter 200 --direction both",
                           "Delay, e.g. 250ms, 2s (plain number: ms)", true);
  latency->add_option("--jitter", in.jitter, "Random extra delay up to this much, e.g. 200ms");
  latency->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return run_shortcut(ctx, in, "latency", {});
      const auto ms = parse_value(parse_duration_ms, in.value);
      const auto jitter = in.jitter.empty() ? 0 : parse_value(parse_duration_ms, in.jitter);
      run_shortcut(ctx, in, "latency", {{"latency", ms}, {"jitter", jitter}});
    };
  });

  auto* timeout = shortcut(app, in, "timeout", "Stop data and close connections after a delay (0: hold forever)",
                           "faultline timeout redis 30s --direction both", "Delay, e.g. 30s (plain number: ms)", true);
  timeout->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return run_shortcut(ctx, in, "timeout", {});
      run_shortcut(ctx, in, "timeout", {{"timeout", parse_value(parse_duration_ms, in.value)}});
    };
  });

  auto* reset = shortcut(app, in, "reset-peer", "Reset connections (TCP RST) after a delay",
                         "faultline reset-peer redis 500ms", "Delay before the reset (default 0)", false);
  reset->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return run_shortcut(ctx, in, "reset_peer", {});
      const auto ms = in.value.empty() ? 0 : parse_value(parse_duration_ms, in.value);
      run_shortcut(ctx, in, "reset_peer", {{"timeout", ms}});
    };
  });

  auto* bandwidth = shortcut(app, in, "bandwidth", "Limit the data rate",
                             "faultline bandwidth redis 100kB/s --direction both",
                             "Rate, e.g. 500B/s, 100kB/s, 2MB/s (plain number: KB/s)", true);
  bandwidth->callback([&] {
    in.action = [&](Context& ctx) {
      if (is_off(in.value)) return run_shortcut(ctx, in, "bandwidth", {});
      run_shortcut(ctx, in, "bandwidth", {{"rate", parse_value(parse_rate_kbps, in.value)}});
    };
  });

  add_http_shortcuts(app, in);

  auto* clear = command(app, "clear", "Remove every toxic of a proxy", "faultline clear redis");
  clear->add_option("proxy", in.proxy, "Proxy name")->required();
  clear->callback([&] { in.action = [&](Context& ctx) { clear_toxics(ctx, in.proxy); }; });

  auto* status = command(app, "status", "Every proxy with its state and toxics", "faultline status");
  add_json_flag(status, in);
  status->callback([&] { in.action = [](Context& ctx) { show_status(ctx); }; });

  auto* completion = command(app, "completion", "Print a shell completion script",
                             "source <(faultline completion bash)");
  completion->add_option("shell", in.shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&] {
    in.offline = true;
    in.offline_output = completion_script(in.shell);
  });
}

// ---- schedules -------------------------------------------------------------

// A duration flag as the API takes it: whole milliseconds.
int64_t duration_flag(const std::string& text) { return parse_value(parse_duration_ms, text); }

// Which toxic a ramp or wave moves: --toxic, or one it adds.
void set_target(const Invocation& in, nlohmann::json& body) {
  if (!in.name.empty()) body["name"] = in.name;
  body["attribute"] = in.attribute;
  if (!in.toxic.empty()) {
    body["toxic"] = in.toxic;
    return;
  }
  if (in.attribute == "toxicity" && in.type.empty())
    throw CommandError("A toxicity ramp needs the toxic: --toxic NAME, or --type TYPE for a new one");
  nlohmann::json toxic = {{"type", in.type.empty() ? type_for_attribute(in.attribute) : in.type}};
  toxic["stream"] = in.direction == "up" ? "upstream" : "downstream";
  body["toxic"] = toxic;
}

void add_schedule_commands(CLI::App& app, Invocation& in) {
  auto* flap = command(app, "flap", "Alternate healthy and impaired periods, run by the server",
                       "faultline flap redis --mode timeout --up 10s --down 5s --timeout 20s --stream up");
  flap->add_option("proxy", in.proxy, "Proxy name")->required();
  flap->add_option("--mode", in.mode, "refuse (disable the proxy), timeout or reset (toxics) while down")
      ->check(CLI::IsMember({"refuse", "timeout", "reset"}));
  flap->add_option("--up", in.up, "Healthy period, e.g. 15s (default 15s)");
  flap->add_option("--down", in.down, "Impaired period (default 15s)");
  flap->add_option("--timeout", in.timeout, "The timeout toxics' timeout in timeout mode (default 30s)");
  flap->add_option("--stream", in.stream, "up, down or both (default both)")->check(CLI::IsMember({"up", "down", "both"}));
  flap->add_option("--iterations", in.iterations, "Cycles to run; 0 = until cancelled (default 0)");
  flap->add_option("-n,--name", in.name, "Schedule name (default PROXY_flap)");
  flap->add_flag("--wait", in.wait, "Stay in the foreground showing the phase; Ctrl+C cancels it");
  add_json_flag(flap, in);
  flap->callback([&] {
    in.action = [&](Context& ctx) {
      nlohmann::json body = {{"proxy", in.proxy}, {"kind", "flap"}, {"mode", in.mode.empty() ? "timeout" : in.mode}};
      if (!in.name.empty()) body["name"] = in.name;
      if (!in.up.empty()) body["up_ms"] = duration_flag(in.up);
      if (!in.down.empty()) body["down_ms"] = duration_flag(in.down);
      if (!in.timeout.empty()) body["timeout_ms"] = duration_flag(in.timeout);
      if (!in.stream.empty()) body["stream"] = in.stream;
      body["iterations"] = in.iterations;
      create_schedule(ctx, body, in.wait);
    };
  });

  auto modulation = [&](const std::string& kind, const std::string& help, const std::string& example) {
    auto* sub = command(app, kind, help, example);
    sub->add_option("proxy", in.proxy, "Proxy name")->required();
    sub->add_option("attribute", in.attribute, "The attribute that moves, e.g. latency, rate, or toxicity")->required();
    sub->add_option("--toxic", in.toxic, "An existing toxic of the proxy (default: one the schedule adds and removes)");
    sub->add_option("-t,--type", in.type, "Type of the toxic it adds (default: the type with that attribute)");
    sub->add_option("--direction", in.direction, "Stream of the toxic it adds: up or down (default down)")
        ->check(CLI::IsMember({"up", "down"}));
    sub->add_option("-n,--name", in.name, "Schedule name (default PROXY_" + kind + ")");
    sub->add_flag("--wait", in.wait, "Stay in the foreground showing the phase; Ctrl+C cancels it");
    add_json_flag(sub, in);
    return sub;
  };


  auto* ramp = modulation("ramp", "Move an attribute from one value to another over time",
                          "faultline ramp redis latency --from 0 --to 500 --over 60s --steps 6");
  ramp->add_option("--from", in.from, "Start value")->required();
  ramp->add_option("--to", in.to, "End value")->required();
  ramp->add_option("--over", in.over, "How long, e.g. 60s")->required();
  ramp->add_option("--steps", in.steps, "Steps; 0 = smooth, every 100 ms (default 0)");
  ramp->add_option("--shape", in.shape, "linear or exponential")->check(CLI::IsMember({"linear", "exponential"}));
  ramp->add_option("--then", in.then, "hold (keep the end value, default) or remove (undo at the end)")
      ->check(CLI::IsMember({"hold", "remove"}));
  ramp->callback([&] {
    in.action = [&](Context& ctx) {
      nlohmann::json body = {{"proxy", in.proxy}, {"kind", "ramp"}, {"from", *in.from}, {"to", *in.to},
                             {"duration_ms", duration_flag(in.over)}, {"steps", in.steps}};
      if (!in.shape.empty()) body["shape"] = in.shape;
      if (!in.then.empty()) body["then"] = in.then;
      set_target(in, body);
      create_schedule(ctx, body, in.wait);
    };
  });

  auto* wave = modulation("wave", "Make an attribute oscillate between two values",
                          "faultline wave redis latency --min 0 --max 300 --period 10s");
  wave->add_option("--min", in.min, "Lowest value")->required();
  wave->add_option("--max", in.max, "Highest value")->required();
  wave->add_option("--period", in.period, "One full cycle, e.g. 10s")->required();
  wave->add_option("--shape", in.shape, "sine (default), square, triangle or sawtooth")
      ->check(CLI::IsMember({"sine", "square", "triangle", "sawtooth"}));
  wave->add_option("--for", in.for_duration, "Stop after this long (default: until cancelled)");
  wave->callback([&] {
    in.action = [&](Context& ctx) {
      nlohmann::json body = {{"proxy", in.proxy}, {"kind", "wave"}, {"min", *in.min}, {"max", *in.max},
                             {"period_ms", duration_flag(in.period)}};
      if (!in.shape.empty()) body["shape"] = in.shape;
      if (!in.for_duration.empty()) body["duration_ms"] = duration_flag(in.for_duration);
      set_target(in, body);
      create_schedule(ctx, body, in.wait);
    };
  });

  auto* list = command(app, "schedules", "List the schedules the server runs", "faultline schedules --json");
  add_json_flag(list, in);
  list->callback([&] { in.action = [](Context& ctx) { list_schedules(ctx); }; });

  auto* schedule = command(app, "schedule", "Remove or apply schedules", "faultline schedule rm redis_flap");
  schedule->require_subcommand(1);
  auto* rm = command(*schedule, "rm", "Cancel a schedule; what it changed is undone", "faultline schedule rm redis_flap",
                     {"remove", "delete"});
  rm->add_option("name", in.name, "Schedule name")->required();
  rm->callback([&] { in.action = [&](Context& ctx) { remove_schedule(ctx, in.name); }; });
  auto* apply = command(*schedule, "apply", "Create the schedules listed in a YAML or JSON file",
                        "faultline schedule apply chaos.yaml");
  apply->add_option("file", in.file, "A list of schedules, as POST /faultline/schedules takes them")->required();
  apply->add_flag("--wait", in.wait, "With one schedule in the file: follow it; Ctrl+C cancels it");
  apply->callback([&] { in.action = [&](Context& ctx) { apply_schedule_file(ctx, in.file, in.wait); }; });
}

// How to reach a server with a token or over https. They set the process's
// client_security(), so `load` and `run` use them too.
void add_security_flags(CLI::App& app) {
  app.add_option_function<std::string>("--token", [](const std::string& v) { client_security().token = v; },
                                       "API token, sent as Authorization: Bearer (env FAULTLINE_API_TOKEN)");
  app.add_option_function<std::string>("--cacert", [](const std::string& v) { client_security().cacert = v; },
                                       "https: trust this PEM certificate authority (env FAULTLINE_CACERT)");
  app.add_option_function<std::string>("--cert", [](const std::string& v) { client_security().cert = v; },
                                       "https: a client certificate (PEM) for mutual TLS (env FAULTLINE_CLIENT_CERT)");
  app.add_option_function<std::string>("--key", [](const std::string& v) { client_security().key = v; },
                                       "https: the client certificate's key (PEM) (env FAULTLINE_CLIENT_KEY)");
  app.add_flag_callback("--insecure", [] { client_security().insecure = true; },
                        "https: do not check the server's certificate (env FAULTLINE_INSECURE=1)");
}

// The URL without a token in it, for messages.
std::string redacted(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t at = url.find('@', start);
  const size_t slash = url.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, start) + "***@" + url.substr(at + 1);
}

void build(CLI::App& app, Invocation& in) {
  // -h is --host, as in toxiproxy-cli; help is --help only. Subcommands
  // inherit this help flag, so it must be set before they are added.
  app.set_help_flag("--help", "Show help and exit");
  app.set_version_flag("--version", std::string("faultline version ") + FAULTLINE_VERSION);
  // Global flags are accepted after the command too: a subcommand hands
  // options it does not know to its parent.
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("-h,--host", in.host,
                 fmt::format("API URL (default {}; env FAULTLINE_URL, then TOXIPROXY_URL)", kDefaultUrl));
  app.add_flag("--json", in.json, "Print the API's JSON (read commands)");
  add_security_flags(app);
  app.footer("Examples:\n  faultline list\n  faultline latency redis 1500 --jitter 200 --direction both\n"
             "  faultline -h http://127.0.0.1:8474 status");
  add_proxy_commands(app, in);
  add_toxic_commands(app, in);
  add_schedule_commands(app, in);
  add_shortcuts(app, in);
  add_load_command(app, in.standalone);
  add_run_command(app, in.standalone);
  add_report_command(app, in.standalone);
}

int run_action(Invocation& in) {
  const std::string url = server_url(in);
  try {
    ApiClient api(url);
    Context ctx{api, detect_style()};
    ctx.style.json = in.json;
    in.action(ctx);
    return 0;
  } catch (const UnreachableError& error) {
    fmt::print(stderr, "cannot reach faultline at {}: {} (is faultline-server running? set --host or FAULTLINE_URL)\n",
               redacted(url), error.what());
  } catch (const std::invalid_argument& error) {
    fmt::print(stderr, "Invalid server URL {}: {}\n", redacted(url), error.what());
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}\n", error.what());
  }
  return 1;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app("faultline: inject network faults through a faultline (or Toxiproxy) server", "faultline");
  Invocation in;
  build(app, in);
  if (argc <= 1) {
    fmt::print("{}", app.help());
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    fmt::print(stderr, "{} (see --help)\n", error.what());
    return 1;
  } catch (const CommandError& error) {
    fmt::print(stderr, "{}\n", error.what());
    return 1;
  }
  if (in.standalone) return in.standalone();
  if (in.offline) {
    fmt::print("{}", in.offline_output);
    return 0;
  }
  return run_action(in);
}

}  // namespace faultline::cli
