// faultline-server: a drop-in replacement for toxiproxy-server.
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/Api.h"
#include "api/HttpServer.h"
#include "api/WebUi.h"
#include "config/ConfigFile.h"
#include "control/Registry.h"
#include "demo/DemoUpstreams.h"
#include "engine/Engine.h"
#include "engine/KernelRedirect.h"
#include "log/Log.h"
#include "schedule/Scheduler.h"
#include "events/EventJournal.h"
#include "events/EventPublisher.h"
#include "metrics/ApiStats.h"
#include "metrics/Metrics.h"
#include "server/ApiSecurity.h"
#include "server/GoFlags.h"
#include "state/StateFile.h"

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION "0.0.0"
#endif

namespace faultline {
namespace {

struct ServerOptions {
  std::string host = "localhost";
  std::string port = "8474";
  std::string config;
  int64_t seed = std::chrono::system_clock::now().time_since_epoch().count();
  bool proxy_metrics = false;
  bool runtime_metrics = false;
  bool version = false;
  std::chrono::nanoseconds grace = std::chrono::seconds(5);
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(10);
  int64_t workers = 0;
  int64_t body_limit = 4 * 1024 * 1024;
  std::chrono::nanoseconds api_read_timeout = std::chrono::seconds(15);
  std::chrono::nanoseconds api_idle_timeout = std::chrono::seconds(60);
  int64_t header_limit = 64 * 1024;
  int64_t api_max_connections = 1024;
  int64_t event_buffer = static_cast<int64_t>(EventJournal::kDefaultCapacity);
  bool demo_upstreams = false;
  bool test_server = false;
  std::string log_format = "text";
  bool verbose = false;
  bool quiet = false;
  bool no_ui = false;
  bool check_config = false;
  ApiSecuritySettings security;
  std::string state_file;
  std::string fast_path;  // -fast-path, else $FAULTLINE_FAST_PATH, else auto
};

int fail(const std::string& message, int code = 1) {
  log::flush();
  std::fprintf(stderr, "faultline-server: %s\n", message.c_str());
  return code;
}

log::Level log_level(const ServerOptions& o) {
  if (o.verbose) return log::Level::Debug;
  if (o.quiet) return log::Level::Error;
  if (const char* env = std::getenv("LOG_LEVEL"); env && *env)
    if (auto level = log::parse_level(env)) return *level;
  return log::Level::Info;
}

int run(int argc, char** argv) {
  // A write to a socket whose peer has gone must fail with EPIPE, not kill
  // the server: splice(2) has no MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  ServerOptions o;
  GoFlags flags("faultline-server");
  flags.add_string("host", &o.host, "host for the HTTP API to listen on");
  flags.add_string("port", &o.port, "port for the HTTP API to listen on");
  flags.add_string("config", &o.config, "JSON or YAML file with proxies (and toxics) to create at start-up");
  flags.add_int("seed", &o.seed, "seed for jitter, toxicity and slicing: the same seed gives the same decisions");
  flags.add_bool("proxy-metrics", &o.proxy_metrics, "serve proxy metrics on /metrics");
  flags.add_bool("runtime-metrics", &o.runtime_metrics, "serve process metrics on /metrics");
  flags.add_bool("version", &o.version, "print the version and exit");
  flags.add_bool("check-config", &o.check_config, "check -config (and -state-file) and exit: 0 and a summary when they load, 1 and the first problem when not");
  flags.add_duration("grace", &o.grace, "on SIGINT/SIGTERM, how long open connections may finish before they are closed");
  flags.add_duration("connect-timeout", &o.connect_timeout, "how long a proxy waits for its upstream to accept a connection");
  flags.add_int("workers", &o.workers, "data-plane threads (0: one per core)");
  flags.add_int("api-body-limit", &o.body_limit, "largest API request body in bytes (larger: 413)");
  flags.add_duration("api-read-timeout", &o.api_read_timeout, "how long the API waits for a request (all of its headers) before it drops the connection");
  flags.add_duration("api-idle-timeout", &o.api_idle_timeout, "how long a keep-alive API connection may wait for its next request");
  flags.add_int("api-header-limit", &o.header_limit, "largest API request line plus headers in bytes (larger: 431)");
  flags.add_int("api-max-connections", &o.api_max_connections, "open API connections at most; a new one closes the one that has waited longest for a request");
  flags.add_int("event-buffer", &o.event_buffer, "control events kept for /faultline/events (a reader further behind is told how many it missed)");
  flags.add_bool("test-server", &o.test_server,
                 "also run a small HTTP server on each upstream of the -config file (as seed 002's chaos-proxy), to try it at once");
  flags.add_bool("demo-upstreams", &o.demo_upstreams, "also run a demo HTTP server on 127.0.0.1:26080 and an echo server on 127.0.0.1:26007");
  flags.add_string("api-token", &o.security.token, "require this token (Authorization: Bearer) on every API request that changes something (default: $FAULTLINE_API_TOKEN)");
  flags.add_bool("api-token-reads", &o.security.token_reads, "require the token on reads too (not /version, /faultline/health, /faultline/ready)");
  flags.add_string("api-tls-cert", &o.security.tls_cert, "serve the API over https with this PEM certificate (chain)");
  flags.add_string("api-tls-key", &o.security.tls_key, "the PEM private key of -api-tls-cert");
  flags.add_string("api-tls-client-ca", &o.security.tls_client_ca, "require API clients to show a certificate this PEM authority signed (mutual TLS)");
  flags.add_string("state-file", &o.state_file, "keep proxies, toxics and schedules in this file across restarts (written on every change, read at start-up after -config)");
  flags.add_bool("no-ui", &o.no_ui, "do not serve the web UI at /ui");
  flags.add_string("fast-path", &o.fast_path,
                   "how bytes of a direction without toxics move: auto (default: bpf when allowed, else splice), bpf "
                   "(redirected in the kernel by a sockmap program; needs CAP_BPF and CAP_NET_ADMIN) or splice "
                   "(default: $FAULTLINE_FAST_PATH, else auto)");
  flags.add_string("log-format", &o.log_format, "log format: text or json");
  flags.add_bool("verbose", &o.verbose, "log debug details (every connection)");
  flags.add_bool("quiet", &o.quiet, "log errors only");
  if (auto error = flags.parse(argc, argv)) {
    std::fprintf(stderr, "%s\n%s", error->c_str(), flags.usage().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.usage().c_str(), stdout);
    return 0;
  }
  if (o.version) {
    std::printf("faultline-server version %s (Toxiproxy API 2.8 compatible)\n", FAULTLINE_VERSION);
    return 0;
  }
  if (o.log_format != "text" && o.log_format != "json")
    return fail(fmt::format("invalid value \"{}\" for flag -log-format: use text or json", o.log_format), 2);
  if (o.workers < 0 || o.workers > 256) return fail(fmt::format("invalid value {} for flag -workers: use 0 to 256", o.workers), 2);
  if (o.fast_path.empty()) {
    const char* env = std::getenv("FAULTLINE_FAST_PATH");
    o.fast_path = env && *env ? env : "auto";
  }
  if (o.fast_path != "splice" && o.fast_path != "bpf" && o.fast_path != "auto")
    return fail(fmt::format("invalid value \"{}\" for flag -fast-path (or FAULTLINE_FAST_PATH): use splice, bpf or auto", o.fast_path), 2);
  if (o.body_limit <= 0) return fail(fmt::format("invalid value {} for flag -api-body-limit: must be positive", o.body_limit), 2);
  if (o.header_limit < 1024 || o.header_limit > 16 * 1024 * 1024)
    return fail(fmt::format("invalid value {} for flag -api-header-limit: use 1024 to 16777216 bytes", o.header_limit), 2);
  if (o.api_max_connections < 1 || o.api_max_connections > 1'000'000)
    return fail(fmt::format("invalid value {} for flag -api-max-connections: use 1 to 1000000", o.api_max_connections), 2);
  if (o.event_buffer < 16 || o.event_buffer > 1'000'000)
    return fail(fmt::format("invalid value {} for flag -event-buffer: use 16 to 1000000", o.event_buffer), 2);
  if (auto problem = check_api_security(o.security)) return fail(*problem, 2);
  log::init(log_level(o), o.log_format == "json" ? log::Format::Json : log::Format::Text);

  LoadedConfig config;
  if (!o.config.empty()) {
    try {
      config = load_config_file(o.config);
    } catch (const ConfigError& e) {
      return fail(e.what());
    }
    for (const auto& w : config.warnings) log::warn("config", {{"warning", w}});
  }
  // What the last run left (read before anything starts: a bad file stops us here).
  std::optional<LoadedConfig> saved;
  if (!o.state_file.empty()) {
    try {
      saved = StateFile::read(o.state_file);
    } catch (const ConfigError& e) {
      return fail(e.what());
    }
  }
  if (o.check_config) {
    auto summary = [](const LoadedConfig& c) {
      size_t toxics = 0;
      for (const auto& p : c.proxies) toxics += p.toxics.size();
      return fmt::format("{} proxies, {} toxics, {} schedules", c.proxies.size(), toxics, c.schedules.size());
    };
    if (!o.config.empty()) std::printf("%s: ok, %s\n", o.config.c_str(), summary(config).c_str());
    if (saved) std::printf("%s: ok, %s\n", o.state_file.c_str(), summary(*saved).c_str());
    if (o.config.empty() && !saved) std::printf("nothing to check: give -config (or -state-file)\n");
    return 0;
  }

  // The in-kernel fast path, when asked for and allowed; declared before the
  // engine, which uses it until it stops.
  std::unique_ptr<KernelRedirect> kernel_redirect;
  std::string fast_path_note = o.fast_path == "splice" ? "-fast-path splice" : "";
  if (o.fast_path != "splice") {
    kernel_redirect = KernelRedirect::open(fast_path_note);
    if (!kernel_redirect && o.fast_path == "bpf") return fail("-fast-path bpf is not available: " + fast_path_note);
    if (kernel_redirect) fast_path_note = "sockmap stream verdict redirect";
  }
  EngineSettings settings;
  settings.kernel_redirect = kernel_redirect.get();
  settings.workers = static_cast<int>(o.workers);
  settings.connect_timeout = o.connect_timeout;
  settings.seed = static_cast<uint64_t>(o.seed);
  Engine engine(settings);
  // Declared before what publishes to them, so they outlive it.
  EventJournal journal(static_cast<size_t>(o.event_buffer));
  EventPublisher publisher(journal);
  std::unique_ptr<StateFile> state;
  if (!o.state_file.empty()) state = std::make_unique<StateFile>(o.state_file);
  ChangeObservers observers;
  observers.add(&publisher);
  if (state) observers.add(state.get());
  Registry registry(engine);
  Scheduler scheduler(registry, engine.time());
  registry.set_listener(&scheduler);
  registry.set_observer(&observers);
  registry.set_chaos_observer(&publisher);
  scheduler.set_observer(&observers);
  std::atomic<bool> ready{false};

  std::unique_ptr<DemoUpstreams> demo;
  if (o.demo_upstreams) {
    try {
      demo = std::make_unique<DemoUpstreams>(DemoUpstreamAddresses{});
      log::info("demo upstreams started", {{"http", "127.0.0.1:26080"}, {"echo", "127.0.0.1:26007"}});
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  std::unique_ptr<DemoUpstreams> test_servers;
  if (o.test_server) {
    if (config.proxies.empty()) return fail("-test-server needs a -config file with proxies (or chaos-proxy routes)", 2);
    std::vector<DemoListener> listeners;
    std::set<std::string> seen;
    for (const auto& entry : config.proxies)
      if (seen.insert(entry.spec.upstream).second) listeners.push_back({entry.spec.upstream, DemoListener::Kind::Http});
    try {
      test_servers = std::make_unique<DemoUpstreams>(listeners);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    for (const auto& l : listeners) log::info("test server started", {{"address", l.address}});
  }

  MetricsOptions metrics_options{o.proxy_metrics, o.runtime_metrics, FAULTLINE_VERSION, &scheduler};
  api::ApiOptions api_options;
  api_options.version = FAULTLINE_VERSION;
  api_options.metrics_enabled = o.proxy_metrics || o.runtime_metrics;
  ApiStats api_stats;
  api_options.render_metrics = [&] { return render_metrics(registry, &api_stats, metrics_options); };
  api_options.scheduler = &scheduler;
  api_options.journal = &journal;
  api_options.on_request = [&](const std::string& method, const std::string& route, int status) {
    api_stats.count(method, route, status);
  };
  api::ApiAccess access({o.security.token, o.security.token_reads});
  api_options.access = &access;
  api_options.ready = &ready;
  if (state) api_options.after_change = [&] { state->wait_written(); };
  api_options.warnings = api_exposure_warnings(o.host, o.port, o.security);
  // Said before the API answers: whoever waits for it to answer finds them in the log.
  for (const auto& warning : api_options.warnings) log::warn("api exposed", {{"warning", warning}});
  std::vector<std::string> api_addresses_bound;  // filled once bound
  api_options.server_json = [&] {
    nlohmann::ordered_json j;
    j["version"] = FAULTLINE_VERSION;
    j["api"] = {{"listening", api_addresses_bound},
                {"tls", o.security.tls()},
                {"mutual_tls", !o.security.tls_client_ca.empty()},
                {"token", !o.security.token.empty()},
                {"token_for_reads", o.security.token_reads}};
    j["warnings"] = api_options.warnings;
    j["state_file"] = o.state_file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(o.state_file);
    j["workers"] = engine.worker_count();
    j["fast_path"] = engine.kernel_path() ? "bpf" : "splice";
    j["proxies"] = registry.proxy_count();
    return j.dump() + "\n";
  };
  api::Api api(registry, api_options);
  api::WebUi web_ui(api, {!o.no_ui, o.security.token.empty() ? "no" : o.security.token_reads ? "reads" : "changes"});

  api::HttpServerOptions http_options;
  http_options.host = o.host;
  http_options.port = o.port;
  http_options.body_limit = static_cast<size_t>(o.body_limit);
  http_options.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.api_read_timeout);
  http_options.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.api_idle_timeout);
  http_options.header_limit = static_cast<size_t>(o.header_limit);
  http_options.max_connections = static_cast<size_t>(o.api_max_connections);
  if (o.security.tls()) http_options.tls = api::TlsFiles{o.security.tls_cert, o.security.tls_key, o.security.tls_client_ca};
  if (http_options.read_timeout.count() <= 0) return fail("invalid value for flag -api-read-timeout: must be positive", 2);
  if (http_options.idle_timeout.count() <= 0) return fail("invalid value for flag -api-idle-timeout: must be positive", 2);
  api::HttpServer http(http_options, [&](const api::Request& r) {
    if (auto page = web_ui.handle(r)) return *page;
    return api.handle(r);
  });
  if (auto error = http.bind(); !error.empty()) return fail("cannot serve the API: " + error);
  api_addresses_bound = http.addresses();

  // The config file, then what the state file kept (its proxies replace
  // the config's of the same name). One entry at a time, so that a failure
  // (a port another program holds) names its entry; nothing has been served
  // yet, so nothing needs undoing.
  auto apply_loaded = [&](const LoadedConfig& loaded, const std::string& origin) -> std::optional<std::string> {
    const bool restoring = saved && &loaded == &*saved;
    for (size_t i = 0; i < loaded.proxies.size(); ++i) {
      const PopulateEntry& entry = loaded.proxies[i];
      try {
        registry.populate({entry});
      } catch (const ControlError& e) {
        const std::string problem = fmt::format("{}: proxy #{} (\"{}\"): field \"listen\" has value \"{}\": cannot listen there: {}",
                                                origin, i + 1, entry.spec.name, entry.spec.listen, e.what());
        // A hand-written config with a taken port is a mistake to fix now. A
        // state file is a crash being recovered from: the port a proxy had
        // (often one the kernel picked) may since belong to someone else, and
        // the rest of the state should not stay down for it. The proxy comes
        // back disabled, at its address; enabling it later binds again.
        if (!restoring || !entry.spec.enabled || e.kind() != ControlErrorKind::SystemFailure) return problem;
        PopulateEntry disabled = entry;
        disabled.spec.enabled = false;
        try {
          registry.populate({disabled});
        } catch (const ControlError&) {
          return problem;
        }
        log::error("proxy restored disabled", {{"proxy", entry.spec.name}, {"listen", entry.spec.listen}, {"error", e.what()},
                                               {"hint", "free the address, then enable the proxy"}});
      }
    }
    // Schedules start once every proxy is there (a ramp on a toxic of the file finds it).
    for (const auto& spec : loaded.schedules) {
      try {
        scheduler.create(spec);
      } catch (const ControlError& e) {
        // A schedule of the config file that the state file kept too starts once.
        if (e.kind() == ControlErrorKind::AlreadyExists && &loaded == &*saved) continue;
        return fmt::format("{}: schedule \"{}\" of proxy \"{}\": {}", origin, spec.name, spec.proxy, e.what());
      }
    }
    return std::nullopt;
  };
  if (auto problem = apply_loaded(config, o.config)) return fail(*problem);
  if (saved) {
    if (auto problem = apply_loaded(*saved, o.state_file)) return fail(*problem);
    log::info("state restored", {{"file", o.state_file}, {"proxies", saved->proxies.size()}, {"schedules", saved->schedules.size()}});
  }
  if (state) state->start(scheduler);
  ready = true;

  std::string api_addresses;
  for (const auto& a : http.addresses()) api_addresses += (api_addresses.empty() ? "" : ",") + a;
  log::info("server started", {{"version", FAULTLINE_VERSION}, {"api", api_addresses}, {"config", o.config},
                               {"proxies", registry.proxy_count()}, {"workers", engine.worker_count()},
                               {"seed", o.seed}});
  log::info("fast path", {{"path", engine.kernel_path() ? "bpf" : "splice"}, {"why", fast_path_note}});
  // The signal handler runs on the API thread. The drain waits up to the
  // grace period, so it runs on a thread of its own: the API thread goes back
  // to its loop at once and closes the API's listening sockets there.
  std::thread drainer;
  http.run([&](int signal) {
    const char* name = signal == SIGINT ? "SIGINT" : "SIGTERM";
    if (drainer.joinable()) {
      log::info("second signal: closing every connection now", {{"signal", name}});
      registry.end_drain_now();
      return;
    }
    log::info("shutting down", {{"signal", name}, {"grace_ms", std::chrono::duration_cast<std::chrono::milliseconds>(o.grace).count()}});
    registry.stop_accepting();  // proxies first, so nothing new gets in once the API is closed
    http.stop_accepting();
    drainer = std::thread([&] {
      if (state) state->stop();  // a last write, with the schedules still in it, before they undo their faults
      scheduler.stop();  // schedules undo their faults before the connections drain
      registry.drain(o.grace);
      http.stop();
    });
  });
  if (drainer.joinable()) drainer.join();
  engine.stop();
  log::info("server stopped");
  log::flush();
  return 0;
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) { return faultline::run(argc, argv); }
