// faultline-bench: measures faultline-server (and optionally any other server
// with Toxiproxy's HTTP API) side by side with the direct, unproxied path.
// See docs/performance.md for what each figure means; bench/run.sh builds and
// runs it.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loadgen.h"
#include "net_util.h"
#include "server_control.h"
#include "upstreams.h"

using namespace fbench;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------- options

struct Options {
  std::string server;  // path of faultline-server
  std::string server_args;
  std::string label = "faultline";
  std::string second_args;  // the same server again with other flags (e.g. the other fast path)
  std::string second_label = "second";
  std::string peer;  // command with {host} {port}
  std::string peer_label = "peer";
  int reps = 3;
  bool quick = false;
  double duration = 4;      // seconds per timed phase
  int scale_conns = 9000;
  std::string json;
  std::string workdir;
  bool use_iperf = true;
};

void usage() {
  std::puts(
      "usage: faultline-bench --server PATH [--server-args 'ARGS'] [--label NAME]\n"
      "                       [--also-args 'ARGS' [--also-label NAME]]\n"
      "                       [--peer 'CMD with {host} {port}'] [--peer-label NAME]\n"
      "                       [--reps N] [--quick] [--duration S] [--scale-conns N]\n"
      "                       [--no-iperf] [--json OUT] [--workdir DIR]");
}

bool parse_options(int argc, char** argv, Options& o) {
  bool reps_set = false, duration_set = false, scale_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--server") o.server = value();
    else if (a == "--server-args") o.server_args = value();
    else if (a == "--label") o.label = value();
    else if (a == "--also-args") o.second_args = value();
    else if (a == "--also-label") o.second_label = value();
    else if (a == "--peer") o.peer = value();
    else if (a == "--peer-label") o.peer_label = value();
    else if (a == "--reps") o.reps = std::max(1, std::atoi(value().c_str())), reps_set = true;
    else if (a == "--quick") o.quick = true;
    else if (a == "--duration") o.duration = std::max(1.0, std::atof(value().c_str())), duration_set = true;
    else if (a == "--scale-conns") o.scale_conns = std::max(1, std::atoi(value().c_str())), scale_set = true;
    else if (a == "--json") o.json = value();
    else if (a == "--workdir") o.workdir = value();
    else if (a == "--no-iperf") o.use_iperf = false;
    else if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      usage();
      return false;
    }
  }
  if (o.quick) {
    if (!reps_set) o.reps = 1;
    if (!duration_set) o.duration = 1;
    if (!scale_set) o.scale_conns = 2000;
  }
  if (o.server.empty()) {
    usage();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- statistics

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

std::vector<double> finite(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  return out;
}

double median(const std::vector<double>& v) { return percentile(finite(v), 50); }

// Half of min-max relative to the median, in percent.
double spread_pct(const std::vector<double>& v) {
  const auto f = finite(v);
  if (f.size() < 2) return kNaN;
  const double m = percentile(f, 50);
  if (m == 0) return kNaN;
  const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
  return (*hi - *lo) / 2.0 / std::fabs(m) * 100.0;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  const double a = std::fabs(v);
  if (a >= 1000) std::snprintf(b, sizeof b, "%.0f", v);
  else if (a >= 100) std::snprintf(b, sizeof b, "%.1f", v);
  else if (a >= 10) std::snprintf(b, sizeof b, "%.2f", v);
  else std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

// ---------------------------------------------------------------- results

struct Row {
  std::string key, title, unit;
  bool vs_direct = false;  // show value/direct ratios
  std::map<std::string, std::vector<double>> values;  // label -> per repetition
};

class Results {
 public:
  explicit Results(int reps) : reps_(reps) {}
  void define(const std::string& key, const std::string& title, const std::string& unit, bool vs_direct) {
    rows_.push_back(Row{key, title, unit, vs_direct, {}});
  }
  void put(const std::string& key, const std::string& label, int rep, double value) {
    Row* r = find(key);
    if (!r) return;
    auto& v = r->values[label];
    if (v.empty()) v.assign(static_cast<size_t>(reps_), kNaN);
    v[static_cast<size_t>(rep)] = value;
  }
  double med(const std::string& key, const std::string& label) const {
    const Row* r = find(key);
    if (!r) return kNaN;
    auto it = r->values.find(label);
    return it == r->values.end() ? kNaN : median(it->second);
  }
  // Median over repetitions of a/b, both taken in the same repetition.
  double ratio(const std::string& key, const std::string& a, const std::string& b) const {
    const Row* r = find(key);
    if (!r) return kNaN;
    auto ia = r->values.find(a), ib = r->values.find(b);
    if (ia == r->values.end() || ib == r->values.end()) return kNaN;
    std::vector<double> q;
    for (size_t i = 0; i < ia->second.size() && i < ib->second.size(); ++i)
      if (std::isfinite(ia->second[i]) && std::isfinite(ib->second[i]) && ib->second[i] != 0)
        q.push_back(ia->second[i] / ib->second[i]);
    return median(q);
  }
  const std::vector<Row>& rows() const { return rows_; }
  const Row* find(const std::string& key) const {
    for (const auto& r : rows_)
      if (r.key == key) return &r;
    return nullptr;
  }

 private:
  Row* find(const std::string& key) {
    for (auto& r : rows_)
      if (r.key == key) return &r;
    return nullptr;
  }
  int reps_;
  std::vector<Row> rows_;
};

// ---------------------------------------------------------------- targets

struct ProxySpec {
  std::string key;
  int upstream_port;
  std::string toxic;  // JSON body for POST /proxies/NAME/toxics, or empty
};

struct Target {
  std::string label;
  bool direct = false;
  ServerProcess server;
  std::map<std::string, int> port;  // logical name -> port the client uses
  bool usable = true;
  std::string error;
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) o += ' ';
    else o += c;
  }
  return o;
}

// The port of "listen":"host:port" in a JSON answer; 0 if absent.
int listen_port_of(const std::string& body) {
  const size_t at = body.find("\"listen\"");
  if (at == std::string::npos) return 0;
  const size_t q1 = body.find('"', body.find(':', at + 8) + 1);
  const size_t q2 = q1 == std::string::npos ? q1 : body.find('"', q1 + 1);
  if (q2 == std::string::npos) return 0;
  const std::string listen = body.substr(q1 + 1, q2 - q1 - 1);
  const size_t colon = listen.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(listen.c_str() + colon + 1);
}

std::vector<std::string> g_notes;  // API oddities and errors, printed at the end

bool create_proxies(Target& t, const std::vector<ProxySpec>& specs) {
  t.port.clear();
  for (const auto& s : specs) {
    const std::string name = "flbench_" + s.key;
    const std::string body = "{\"name\":\"" + name + "\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:" +
                             std::to_string(s.upstream_port) + "\",\"enabled\":true}";
    const HttpReply r = http_request(t.server.api_port, "POST", "/proxies", body);
    if (r.status < 200 || r.status > 299) {
      t.error = "POST /proxies " + name + " -> " + std::to_string(r.status) + " " + r.body.substr(0, 200);
      return false;
    }
    if (r.status != 201) g_notes.push_back(t.label + ": POST /proxies answered " + std::to_string(r.status) + " (expected 201)");
    const int port = listen_port_of(r.body);
    if (port <= 0) {
      t.error = "POST /proxies " + name + ": no usable \"listen\" in " + r.body.substr(0, 200);
      return false;
    }
    t.port[s.key] = port;
    if (!s.toxic.empty()) {
      const HttpReply tr = http_request(t.server.api_port, "POST", "/proxies/" + name + "/toxics", s.toxic);
      if (tr.status < 200 || tr.status > 299) {
        t.error = "POST /proxies/" + name + "/toxics -> " + std::to_string(tr.status) + " " + tr.body.substr(0, 200);
        return false;
      }
      if (tr.status != 200) g_notes.push_back(t.label + ": POST toxics answered " + std::to_string(tr.status) + " (expected 200)");
    }
  }
  // Prove the data path before measuring anything.
  const PingPongResult check = ping_pong(t.port["echo"], 0, 20, 20);
  if (!check.error.empty()) {
    t.error = "echo check through the proxy failed: " + check.error;
    return false;
  }
  return true;
}

bool start_target(Target& t, const std::vector<ProxySpec>& specs) {
  if (!t.server.start()) {
    t.error = t.server.error;
    return false;
  }
  if (!create_proxies(t, specs)) {
    t.server.stop();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- bulk

struct BulkFigure {
  double gbps = kNaN;
  double bytes = 0;
  std::string error;
};

class Bulk {
 public:
  Bulk(bool iperf, int iperf_port, const Upstreams& up, const std::string& workdir)
      : iperf_(iperf), iperf_port_(iperf_port), up_(up), workdir_(workdir) {}
  bool iperf() const { return iperf_; }

  BulkFigure run(int port, int streams, double seconds) const {
    BulkFigure f;
    if (!iperf_) {
      const uint64_t before = up_.sink_bytes();
      const double t0 = now_s();
      bulk_send(port, streams, seconds);
      const double elapsed = now_s() - t0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the sink drain what is in flight
      f.bytes = static_cast<double>(up_.sink_bytes() - before);
      f.gbps = f.bytes * 8 / elapsed / 1e9;
      return f;
    }
    const pid_t server = spawn("iperf3 -s -1 -p " + std::to_string(iperf_port_), workdir_ + "/iperf3-server.log");
    const double until = now_s() + 3;
    while (!is_listening(iperf_port_) && now_s() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int t = std::max(1, static_cast<int>(std::lround(seconds)));
    std::string cmd = "iperf3 -c 127.0.0.1 -p " + std::to_string(port) + " -t " + std::to_string(t) + " -J";
    if (streams > 1) cmd += " -P " + std::to_string(streams);
    int code = 0;
    const std::string out = run_capture(cmd, t + 20.0, code);
    wait_exit(server, 5.0);
    const size_t at = out.rfind("\"sum_received\"");
    if (at == std::string::npos) {
      const size_t e = out.find("\"error\"");
      f.error = "iperf3 gave no sum_received" + (e != std::string::npos ? ": " + out.substr(e, 120) : std::string());
      return f;
    }
    const std::string obj = out.substr(at, out.find('}', at) - at);
    auto field = [&](const char* name) {
      const size_t p = obj.find(name);
      return p == std::string::npos ? kNaN : std::atof(obj.c_str() + obj.find(':', p) + 1);
    };
    f.bytes = field("\"bytes\"");
    f.gbps = field("\"bits_per_second\"") / 1e9;
    return f;
  }

 private:
  bool iperf_;
  int iperf_port_;
  const Upstreams& up_;
  std::string workdir_;
};

// ---------------------------------------------------------------- misc

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

long count_fds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  long n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

std::string timestamp() {
  char b[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return b;
}

void progress(const std::string& s) {
  std::fprintf(stderr, "[bench] %s\n", s.c_str());
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, o)) return 2;
  ::signal(SIGPIPE, SIG_IGN);

  // Descriptors: the bench holds both ends of every idle connection it opens
  // directly (client + echo upstream), the server two per proxied connection.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const int fd_room = static_cast<int>(std::min<rlim_t>(lim.rlim_cur, 1 << 20)) - 512;
  if (o.scale_conns * 2 > fd_room) {
    const int n = std::max(1, fd_room / 2);
    g_notes.push_back("idle connections lowered from " + std::to_string(o.scale_conns) + " to " + std::to_string(n) +
                      " (descriptor limit " + std::to_string(lim.rlim_cur) + ")");
    o.scale_conns = n;
  }

  if (o.workdir.empty()) o.workdir = "/tmp/faultline-bench-" + std::to_string(::getpid());
  std::string mk = "mkdir -p '" + o.workdir + "'";
  if (std::system(mk.c_str()) != 0) {
    std::fprintf(stderr, "cannot create %s\n", o.workdir.c_str());
    return 2;
  }

  int exit_code = 0;
  const bool have_iperf = o.use_iperf && std::system("command -v iperf3 >/dev/null 2>&1") == 0;
  Upstreams up;
  if (!up.ok()) {
    std::fprintf(stderr, "cannot start the upstream servers\n");
    return 2;
  }
  const int iperf_port = have_iperf ? free_port() : 0;
  Bulk bulk(have_iperf, iperf_port, up, o.workdir);
  const int bulk_upstream = have_iperf ? iperf_port : up.sink_port();

  const std::string latency_toxic =
      R"({"name":"lat","type":"latency","stream":"downstream","toxicity":1.0,"attributes":{"latency":50,"jitter":0}})";
  auto bandwidth_toxic = [](int rate) {
    return R"({"name":"bw","type":"bandwidth","stream":"downstream","toxicity":1.0,"attributes":{"rate":)" +
           std::to_string(rate) + "}}";
  };
  const std::vector<ProxySpec> specs = {
      {"echo", up.echo_port(), ""},
      {"oneshot", up.oneshot_port(), ""},
      {"sink", up.sink_port(), ""},
      {"bulk", bulk_upstream, ""},
      {"bulk_lat", bulk_upstream, latency_toxic},
      {"latency", up.echo_port(), latency_toxic},
      {"bw1", up.source_port(), bandwidth_toxic(1000)},
      {"bw100", up.source_port(), bandwidth_toxic(100000)},
      {"scale", up.echo_port(), ""},
  };

  // Targets: direct first, then the candidate, the same server with other
  // flags if asked, then the peer.
  std::vector<std::unique_ptr<Target>> targets;
  {
    auto d = std::make_unique<Target>();
    d->label = "direct";
    d->direct = true;
    d->port = {{"echo", up.echo_port()}, {"oneshot", up.oneshot_port()}, {"sink", up.sink_port()}, {"bulk", bulk_upstream}};
    targets.push_back(std::move(d));
    auto c = std::make_unique<Target>();
    c->label = o.label;
    c->server.label = o.label;
    c->server.command = "'" + o.server + "' -host {host} -port {port}" + (o.server_args.empty() ? "" : " " + o.server_args);
    c->server.log_path = o.workdir + "/" + o.label + ".log";
    targets.push_back(std::move(c));
    if (!o.second_args.empty()) {
      auto s2 = std::make_unique<Target>();
      s2->label = o.second_label;
      s2->server.label = o.second_label;
      s2->server.command = "'" + o.server + "' -host {host} -port {port} " + o.second_args;
      s2->server.log_path = o.workdir + "/" + o.second_label + ".log";
      targets.push_back(std::move(s2));
    }
    if (!o.peer.empty()) {
      auto p = std::make_unique<Target>();
      p->label = o.peer_label;
      p->server.label = o.peer_label;
      p->server.command = o.peer;
      p->server.log_path = o.workdir + "/" + o.peer_label + ".log";
      targets.push_back(std::move(p));
    }
  }
  Target& cand = *targets[1];
  Target* second = !o.second_args.empty() ? targets[2].get() : nullptr;
  Target* peer = !o.peer.empty() ? targets.back().get() : nullptr;

  const double dur = o.duration;
  const double bw_warm = o.quick ? 0.5 : 1.0, bw_measure = o.quick ? 1.5 : 3.0;
  const int lat_requests = o.quick ? 100 : 500;
  const double hold_s = o.quick ? 0.3 : 1.0;

  utsname un{};
  ::uname(&un);
  const std::string load_before = read_first_line("/proc/loadavg");
  std::printf("faultline-bench  %s\n", timestamp().c_str());
  std::printf("machine: %s %s, %u CPUs, load average at start: %s\n", un.sysname, un.release,
              std::thread::hardware_concurrency(), load_before.c_str());
  std::printf("settings: %d repetition(s)%s, %.0f s per timed phase, bulk via %s, %d idle connections, "
              "descriptor limit %lu, work dir %s\n",
              o.reps, o.quick ? " (quick)" : "", dur, have_iperf ? "iperf3" : "built-in sender into a sink",
              o.scale_conns, static_cast<unsigned long>(lim.rlim_cur), o.workdir.c_str());
  std::printf("candidate: %s\n", cand.server.command.c_str());
  if (second) std::printf("also: %s\n", second->server.command.c_str());
  if (peer) std::printf("peer: %s\n", peer->server.command.c_str());
  std::fflush(stdout);

  for (auto& t : targets) {
    if (t->direct) continue;
    progress("starting " + t->label);
    if (!start_target(*t, specs)) {
      t->usable = false;
      g_notes.push_back(t->label + " left out: " + t->error);
      std::fprintf(stderr, "%s: %s\n", t->label.c_str(), t->error.c_str());
      if (t.get() == &cand) exit_code = 1;
    }
  }

  Results res(o.reps);
  res.define("thr1", "bulk throughput, 1 stream", "Gbit/s", true);
  res.define("thr8", "bulk throughput, 8 streams", "Gbit/s", true);
  res.define("rtt50", "RTT 64 B ping-pong p50", "us", true);
  res.define("rtt99", "RTT 64 B ping-pong p99", "us", true);
  res.define("rtt999", "RTT 64 B ping-pong p99.9", "us", true);
  res.define("add50", "added RTT p50 (proxied - direct)", "us", false);
  res.define("add99", "added RTT p99", "us", false);
  res.define("add999", "added RTT p99.9", "us", false);
  res.define("conn", "new connections/s (16 in flight)", "conn/s", true);
  res.define("connp50", "connection time p50 (connect..EOF)", "us", true);
  res.define("connerr", "connection errors", "count", false);
  res.define("held", "idle connections held (of " + std::to_string(o.scale_conns) + ")", "conns", false);
  res.define("usable", "idle connections usable after hold", "conns", false);
  res.define("rss0", "server RSS before, idle", "MB", false);
  res.define("rsskb", "RSS growth per idle proxied conn", "KB", false);
  res.define("fdper", "server descriptors per idle proxied conn", "fds", false);
  res.define("opens", "time to open + echo them", "s", false);
  res.define("cpu1", "proxy CPU per GB, 1 stream", "CPU-s/GB", false);
  res.define("cpu8", "proxy CPU per GB, 8 streams", "CPU-s/GB", false);
  res.define("cpupp", "proxy CPU per ping-pong round trip", "us", false);
  res.define("lat50", "latency toxic 50 ms: delay p50", "ms", false);
  res.define("lat99", "latency toxic 50 ms: delay p99", "ms", false);
  res.define("latmax", "latency toxic 50 ms: delay max", "ms", false);
  res.define("bw1", "bandwidth toxic 1 MB/s: measured", "% of req", false);
  res.define("bw100", "bandwidth toxic 100 MB/s: measured", "% of req", false);
  res.define("uplat", "bulk upstream, latency toxic downstream", "Gbit/s", false);
  res.define("uplatr", "  ratio to the same without toxic", "x", false);

  std::vector<std::string> phase_errors;
  auto phase_error = [&](const Target& t, const std::string& phase, int rep, const std::string& what) {
    phase_errors.push_back(t.label + " " + phase + " rep " + std::to_string(rep + 1) + ": " + what);
    if (&t == &cand) exit_code = 1;
  };
  auto settle = [&](Target& t) {
    if (!t.direct && t.server.pid > 0) wait_until_idle(t.server.pid);
  };
  auto cpu_of = [](const Target& t) { return t.direct ? 0.0 : process_cpu_seconds(t.server.pid); };

  // Warm-up (not recorded): each path carries some of every kind of load once.
  for (auto& tp : targets) {
    Target& t = *tp;
    if (!t.usable) continue;
    progress("warm-up " + t.label);
    ping_pong(t.port["echo"], o.quick ? 0.2 : 0.5, 200);
    conn_rate(t.port["oneshot"], 16, o.quick ? 0.2 : 0.5);
    bulk_send(t.port["sink"], 2, o.quick ? 0.2 : 0.5);
  }

  const double run_start = now_s();
  for (int rep = 0; rep < o.reps; ++rep) {
    std::vector<Target*> order;
    for (size_t i = 0; i < targets.size(); ++i) order.push_back(targets[(i + static_cast<size_t>(rep)) % targets.size()].get());
    progress("repetition " + std::to_string(rep + 1) + "/" + std::to_string(o.reps));

    // 1 + 5: bulk throughput and the proxy's CPU per GB.
    for (int streams : {1, 8}) {
      for (Target* t : order) {
        if (!t->usable) continue;
        settle(*t);
        const double c0 = cpu_of(*t);
        const BulkFigure f = bulk.run(t->port["bulk"], streams, dur);
        const double c1 = cpu_of(*t);
        if (!f.error.empty() || !std::isfinite(f.gbps)) {
          phase_error(*t, streams == 1 ? "bulk1" : "bulk8", rep, f.error.empty() ? "no figure" : f.error);
          continue;
        }
        res.put(streams == 1 ? "thr1" : "thr8", t->label, rep, f.gbps);
        if (!t->direct && f.bytes > 0) res.put(streams == 1 ? "cpu1" : "cpu8", t->label, rep, (c1 - c0) / (f.bytes / 1e9));
      }
    }

    // 7: a latency toxic on the downstream must not slow the upstream.
    for (Target* t : order) {
      if (!t->usable || t->direct) continue;
      settle(*t);
      const BulkFigure f = bulk.run(t->port["bulk_lat"], 1, dur);
      if (!f.error.empty() || !std::isfinite(f.gbps)) {
        phase_error(*t, "uplat", rep, f.error);
        continue;
      }
      res.put("uplat", t->label, rep, f.gbps);
    }

    // 2: ping-pong.
    double direct_p50_us = 0;
    std::map<std::string, std::vector<double>> pct;
    for (Target* t : order) {
      if (!t->usable) continue;
      settle(*t);
      const double c0 = t->direct ? 0 : cpu_of(*t);
      const PingPongResult r = ping_pong(t->port["echo"], dur, o.quick ? 300 : 1000);
      if (!t->direct && !r.rtt_ns.empty()) res.put("cpupp", t->label, rep, (cpu_of(*t) - c0) * 1e6 / static_cast<double>(r.rtt_ns.size()));
      if (!r.error.empty() || r.rtt_ns.empty()) {
        phase_error(*t, "pingpong", rep, r.error);
        continue;
      }
      pct[t->label] = {percentile(r.rtt_ns, 50) / 1e3, percentile(r.rtt_ns, 99) / 1e3, percentile(r.rtt_ns, 99.9) / 1e3};
      res.put("rtt50", t->label, rep, pct[t->label][0]);
      res.put("rtt99", t->label, rep, pct[t->label][1]);
      res.put("rtt999", t->label, rep, pct[t->label][2]);
    }
    if (pct.count("direct")) {
      direct_p50_us = pct["direct"][0];
      for (auto& [label, p] : pct) {
        if (label == "direct") continue;
        res.put("add50", label, rep, p[0] - pct["direct"][0]);
        res.put("add99", label, rep, p[1] - pct["direct"][1]);
        res.put("add999", label, rep, p[2] - pct["direct"][2]);
      }
    }

    // 3: connection churn.
    for (Target* t : order) {
      if (!t->usable) continue;
      settle(*t);
      const ConnRateResult r = conn_rate(t->port["oneshot"], 16, dur);
      res.put("conn", t->label, rep, static_cast<double>(r.completed) / r.seconds);
      res.put("connp50", t->label, rep, percentile(r.conn_ns, 50) / 1e3);
      res.put("connerr", t->label, rep, static_cast<double>(r.errors));
      if (r.errors > 0) phase_error(*t, "connrate", rep, std::to_string(r.errors) + " errors, first: " + r.first_error);
    }

    // 6a: latency toxic accuracy.
    for (Target* t : order) {
      if (!t->usable || t->direct) continue;
      settle(*t);
      const PingPongResult r = paced_requests(t->port["latency"], lat_requests, 2.0, 10.0 + lat_requests * 0.002);
      if (!r.error.empty() || r.rtt_ns.empty()) {
        phase_error(*t, "lat_toxic", rep, r.error);
        if (r.rtt_ns.empty()) continue;
      }
      std::vector<double> delay_ms;
      for (double ns : r.rtt_ns) delay_ms.push_back(ns / 1e6 - direct_p50_us / 1e3);
      res.put("lat50", t->label, rep, percentile(delay_ms, 50));
      res.put("lat99", t->label, rep, percentile(delay_ms, 99));
      res.put("latmax", t->label, rep, *std::max_element(delay_ms.begin(), delay_ms.end()));
    }

    // 6b: bandwidth toxic accuracy (Toxiproxy's rate is in KB/s, 1 KB = 1000 B).
    for (Target* t : order) {
      if (!t->usable || t->direct) continue;
      for (auto [key, rate] : {std::pair<const char*, double>{"bw1", 1000.0}, {"bw100", 100000.0}}) {
        settle(*t);
        std::string err;
        const double bps = read_rate(t->port[key], bw_warm, bw_measure, err);
        if (!err.empty()) {
          phase_error(*t, key, rep, err);
          continue;
        }
        res.put(key, t->label, rep, bps / (rate * 1000.0) * 100.0);
      }
    }

    // 4: memory per idle connection, on a fresh server process.
    for (Target* t : order) {
      if (!t->usable || t->direct) continue;
      progress("idle connections: " + t->label);
      t->server.stop();
      if (!start_target(*t, specs)) {
        phase_error(*t, "scale", rep, "restart failed: " + t->error);
        t->usable = false;
        continue;
      }
      settle(*t);
      const long rss_before = process_rss_kb(t->server.pid);
      const long fds_before = count_fds(t->server.pid);
      long rss_after = -1, fds_after = -1;
      const ScaleResult r = hold_idle(t->port["scale"], o.scale_conns, [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        rss_after = process_rss_kb(t->server.pid);
        fds_after = count_fds(t->server.pid);
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(hold_s * 1000)));
      });
      res.put("held", t->label, rep, r.verified);
      res.put("usable", t->label, rep, r.verified_after);
      res.put("opens", t->label, rep, r.open_seconds);
      res.put("rss0", t->label, rep, static_cast<double>(rss_before) / 1024.0);
      // Per connection proven end to end (the kernel may accept more than the server proxies).
      if (r.verified > 0 && rss_before > 0 && rss_after > 0)
        res.put("rsskb", t->label, rep, static_cast<double>(rss_after - rss_before) / r.verified);
      if (r.verified > 0 && fds_before > 0 && fds_after > 0)
        res.put("fdper", t->label, rep, static_cast<double>(fds_after - fds_before) / r.verified);
      if (r.verified_after < o.scale_conns)
        phase_error(*t, "scale", rep,
                    std::to_string(r.verified) + "/" + std::to_string(r.verified_after) + " of " +
                        std::to_string(o.scale_conns) + " usable; first error: " + r.first_error);
      // The next repetition starts on a process that never held them.
      if (rep + 1 < o.reps) {
        t->server.stop();
        if (!start_target(*t, specs)) {
          phase_error(*t, "restart", rep, t->error);
          t->usable = false;
        }
      }
    }
  }
  for (const auto& label : {o.label, o.second_label, o.peer_label}) {
    for (int rep = 0; rep < o.reps; ++rep) {
      const Row* thr = std::as_const(res).find("thr1");
      const Row* ul = std::as_const(res).find("uplat");
      auto a = ul->values.find(label), b = thr->values.find(label);
      if (a == ul->values.end() || b == thr->values.end()) continue;
      res.put("uplatr", label, rep, a->second[static_cast<size_t>(rep)] / b->second[static_cast<size_t>(rep)]);
    }
  }
  const double run_seconds = now_s() - run_start;
  for (auto& t : targets)
    if (!t->direct) t->server.stop();

  // ---------------------------------------------------------------- report
  std::vector<std::string> labels;
  for (auto& t : targets) labels.push_back(t->label);
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> ratio_cols;
  ratio_cols.push_back({o.label + "/direct", {o.label, "direct"}});
  if (second) {
    ratio_cols.push_back({o.second_label + "/direct", {o.second_label, "direct"}});
    ratio_cols.push_back({o.second_label + "/" + o.label, {o.second_label, o.label}});
  }
  if (peer) {
    ratio_cols.push_back({o.peer_label + "/direct", {o.peer_label, "direct"}});
    ratio_cols.push_back({o.label + "/" + o.peer_label, {o.label, o.peer_label}});
  }
  std::printf("\nmedians over %d repetition(s); +-x%% = half of min-max relative to the median; ratios are medians of "
              "per-repetition ratios\n\n",
              o.reps);
  std::printf("%-42s %-9s", "figure", "unit");
  for (auto& l : labels) std::printf(" %18s", l.c_str());
  for (auto& rc : ratio_cols) std::printf(" %16s", rc.first.c_str());
  std::printf("\n");
  for (const Row& r : res.rows()) {
    std::printf("%-42s %-9s", r.title.c_str(), r.unit.c_str());
    for (auto& l : labels) {
      auto it = r.values.find(l);
      std::string cell = "-";
      if (it != r.values.end() && std::isfinite(median(it->second))) {
        cell = num(median(it->second));
        const double sp = spread_pct(it->second);
        if (std::isfinite(sp)) cell += " +-" + std::to_string(static_cast<int>(std::lround(sp))) + "%";
      }
      std::printf(" %18s", cell.c_str());
    }
    for (auto& rc : ratio_cols) {
      const bool to_direct = rc.second.second == "direct";
      const double q = (to_direct && !r.vs_direct) ? kNaN : res.ratio(r.key, rc.second.first, rc.second.second);
      std::printf(" %16s", std::isfinite(q) ? (num(q) + "x").c_str() : "-");
    }
    std::printf("\n");
  }
  std::printf("\n(latency toxic requested: 50 ms; delay = RTT - direct RTT p50; %d requests paced 2 ms apart on one "
              "connection)\n",
              lat_requests);
  const std::string load_after = read_first_line("/proc/loadavg");
  std::printf("run took %.0f s; load average at end: %s\n", run_seconds, load_after.c_str());
  for (auto& n : g_notes) std::printf("NOTE: %s\n", n.c_str());
  for (auto& e : phase_errors) std::printf("ERROR: %s\n", e.c_str());

  // JSON with every figure of every repetition.
  if (!o.json.empty()) {
    std::ofstream js(o.json);
    js << "{\"meta\":{\"time\":\"" << timestamp() << "\",\"kernel\":\"" << json_escape(un.release)
       << "\",\"cpus\":" << std::thread::hardware_concurrency() << ",\"reps\":" << o.reps
       << ",\"quick\":" << (o.quick ? "true" : "false") << ",\"duration_s\":" << dur
       << ",\"bulk_tool\":\"" << (have_iperf ? "iperf3" : "builtin") << "\",\"scale_conns\":" << o.scale_conns
       << ",\"loadavg_start\":\"" << json_escape(load_before) << "\",\"loadavg_end\":\"" << json_escape(load_after)
       << "\",\"candidate\":\"" << json_escape(cand.server.command) << "\",\"peer\":\""
       << json_escape(peer ? peer->server.command : "") << "\"},\"rows\":[";
    bool first_row = true;
    for (const Row& r : res.rows()) {
      js << (first_row ? "" : ",") << "{\"key\":\"" << r.key << "\",\"title\":\"" << json_escape(r.title)
         << "\",\"unit\":\"" << r.unit << "\",\"values\":{";
      first_row = false;
      bool first_l = true;
      for (auto& [l, v] : r.values) {
        js << (first_l ? "" : ",") << "\"" << json_escape(l) << "\":[";
        first_l = false;
        for (size_t i = 0; i < v.size(); ++i) {
          if (i) js << ",";
          if (std::isfinite(v[i])) js << v[i];
          else js << "null";
        }
        js << "]";
      }
      js << "}}";
    }
    js << "],\"notes\":[";
    for (size_t i = 0; i < g_notes.size(); ++i) js << (i ? "," : "") << "\"" << json_escape(g_notes[i]) << "\"";
    js << "],\"errors\":[";
    for (size_t i = 0; i < phase_errors.size(); ++i) js << (i ? "," : "") << "\"" << json_escape(phase_errors[i]) << "\"";
    js << "]}\n";
    std::printf("JSON written to %s\n", o.json.c_str());
  }

  // One-line summary per faultline target.
  auto summary = [&](const std::string& c) {
    const std::string p = o.peer_label;
    auto vs = [&](const std::string& key) {
      std::string s = "(" + num(res.ratio(key, c, "direct")) + "x direct";
      if (peer) s += ", " + num(res.ratio(key, c, p)) + "x " + p;
      return s + ")";
    };
    std::string sum = "SUMMARY " + c + ": thr1 " + num(res.med("thr1", c)) + " Gb/s " + vs("thr1") + " | thr8 " +
                      num(res.med("thr8", c)) + " Gb/s " + vs("thr8") + " | RTT +" + num(res.med("add50", c)) + "/+" +
                      num(res.med("add99", c)) + "/+" + num(res.med("add999", c)) + " us p50/p99/p99.9";
    if (peer) sum += " (" + p + " +" + num(res.med("add50", p)) + "/+" + num(res.med("add99", p)) + "/+" + num(res.med("add999", p)) + ")";
    sum += " | conn/s " + num(res.med("conn", c)) + " " + vs("conn") + " | idle conns ok " + num(res.med("usable", c)) +
           "/" + std::to_string(o.scale_conns) + ", " + num(res.med("rsskb", c)) + " KB/conn";
    if (peer) sum += " (" + p + " " + num(res.med("rsskb", p)) + ")";
    sum += " | CPU " + num(res.med("cpu1", c)) + "/" + num(res.med("cpu8", c)) + " s/GB, " + num(res.med("cpupp", c)) +
           " us/ping-pong";
    if (peer) sum += " (" + p + " " + num(res.med("cpu1", p)) + "/" + num(res.med("cpu8", p)) + ", " + num(res.med("cpupp", p)) + ")";
    sum += " | lat-toxic 50 ms: p50 " + num(res.med("lat50", c)) + " p99 " + num(res.med("lat99", c)) + " max " +
           num(res.med("latmax", c)) + " ms | bw-toxic " + num(res.med("bw1", c)) + "%/" + num(res.med("bw100", c)) +
           "% of 1/100 MB/s | down-toxic costs upstream " + num(res.med("uplatr", c)) + "x";
    if (!phase_errors.empty()) sum += " | " + std::to_string(phase_errors.size()) + " errors";
    std::printf("%s\n", sum.c_str());
  };
  summary(o.label);
  if (second) summary(o.second_label);
  return exit_code;
}
