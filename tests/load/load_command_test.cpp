// `faultline load` end to end: the real binary against real servers (the
// server's demo upstreams, redis-server, three memcached) through real
// proxies, each error class caused on purpose with a toxic, the event
// stream and time to recovery on a known outage, the JSON and HTML outputs
// read back, and bad input. Label "timing": these run one at a time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "CliRunner.h"
#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using nlohmann::json;

std::string temp_path(const std::string& name) {
  return "/tmp/faultline-load-" + std::to_string(::getpid()) + "-" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `faultline load ARGS --json FILE --quiet` and returns the JSON.
json load(std::vector<std::string> args, CliResult* out = nullptr) {
  const std::string path = temp_path("result.json");
  ::unlink(path.c_str());
  args.insert(args.begin(), "load");
  for (const char* a : {"--json", path.c_str(), "--quiet"}) args.push_back(a);
  const CliResult r = run_cli(args);
  if (out) *out = r;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string text = read_file(path);
  ::unlink(path.c_str());
  if (text.empty()) return json();
  return json::parse(text);
}

std::string tcp(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

uint64_t errors_of(const json& target, const std::string& what) { return target.at("errors").at(what).get<uint64_t>(); }

// A child process (a real redis-server or memcached) stopped with the test.
class Daemon {
 public:
  Daemon(std::vector<std::string> argv) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

bool installed(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

bool wait_listening(int port) {
  for (int i = 0; i < 100; ++i) {
    try {
      Socket s(connect_tcp(port));
      return true;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

TEST(Load, AnOpenLoopRunHoldsItsRateThroughAProxy) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("echo", echo.port());
  const json r = load({tcp(port), "--rate", "500/s", "--duration", "2s", "--warmup", "500ms", "--payload", "100"});
  ASSERT_TRUE(r.is_object());
  const json& t = r.at("targets").at(0);
  EXPECT_EQ(t.at("url"), tcp(port));
  EXPECT_NEAR(t.at("count").get<double>(), 1000, 10) << "500/s for 2 s, whatever the latency";
  EXPECT_NEAR(t.at("throughput_per_s").get<double>(), 500, 5);
  EXPECT_EQ(t.at("error_rate").get<double>(), 0);
  EXPECT_GT(t.at("p50_ms").get<double>(), 0);
  EXPECT_LT(t.at("p50_ms").get<double>(), 20);
  EXPECT_LE(t.at("p50_ms").get<double>(), t.at("p99_ms").get<double>());
  EXPECT_LE(t.at("p99_ms").get<double>(), t.at("max_ms").get<double>());
  EXPECT_GE(t.at("intervals").size(), 2u);
  EXPECT_EQ(r.at("mode"), "rate");
}

TEST(Load, LatencyAddedByAToxicIsMeasuredFromWhenEachRequestWasDue) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("slow", echo.port());
  ASSERT_EQ(server.api().post("/proxies/slow/toxics", R"({"type":"latency","attributes":{"latency":40}})").status, 200);
  const json r = load({tcp(port), "--rate", "200/s", "--duration", "1s", "--warmup", "0s"});
  const json& t = r.at("targets").at(0);
  EXPECT_GE(t.at("p50_ms").get<double>(), 40);
  EXPECT_LT(t.at("p50_ms").get<double>(), 60);
  EXPECT_EQ(t.at("error_rate").get<double>(), 0);
}

TEST(Load, PipeliningHoldsARateThatOneRequestPerConnectionCannot) {
  // Behind 100 ms, a connection with one request in flight manages 10
  // requests/s: two of them cannot carry 100/s, ten pipelined each can.
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("far", echo.port());
  ASSERT_EQ(server.api().post("/proxies/far/toxics", R"({"type":"latency","attributes":{"latency":100}})").status, 200);
  const std::vector<std::string> run = {tcp(port), "--rate", "100/s", "--connections", "2", "--duration", "2s", "--warmup", "0s"};
  std::vector<std::string> pipelined = run;
  for (const char* a : {"--pipeline", "10"}) pipelined.push_back(a);
  const json r = load(pipelined);
  const json& t = r.at("targets").at(0);
  EXPECT_NEAR(t.at("count").get<double>(), 200, 3);
  EXPECT_EQ(t.at("error_rate").get<double>(), 0) << t.dump();
  EXPECT_GE(t.at("p50_ms").get<double>(), 100);
  EXPECT_LT(t.at("p99_ms").get<double>(), 200) << "each request waits only for the toxic, not for the ones before it";
  EXPECT_EQ(r.at("pipeline"), 10);
  const json serial = load(run);
  EXPECT_GT(serial.at("targets").at(0).at("error_rate").get<double>(), 0.5)
      << "without pipelining the requests queue up behind each other and time out";
  EXPECT_FALSE(serial.contains("pipeline")) << "the key appears only when asked for";
}

TEST(Load, HttpAgainstTheDemoUpstreamWithKeepAliveAndStatusChecks) {
  ServerOptions options;
  options.args = {"-demo-upstreams"};
  ServerProcess server(options);
  const json ok = load({"http://127.0.0.1:26080/", "--concurrency", "4", "--duration", "1s", "--warmup", "0s"});
  const json& t = ok.at("targets").at(0);
  EXPECT_GT(t.at("count").get<uint64_t>(), 200u);
  EXPECT_EQ(t.at("error_rate").get<double>(), 0) << t.dump();
  const json wrong = load({"http://127.0.0.1:26080/", "--concurrency", "2", "--duration", "500ms", "--warmup", "0s",
                           "--expect-status", "418"});
  const json& w = wrong.at("targets").at(0);
  EXPECT_EQ(errors_of(w, "mismatch"), w.at("count").get<uint64_t>());
  EXPECT_EQ(w.at("error_examples").at("mismatch"), "HTTP status 200");
  const json pipelined = load({"http://127.0.0.1:26080/", "--concurrency", "2", "--pipeline", "8", "--duration", "1s", "--warmup", "0s"});
  EXPECT_GT(pipelined.at("targets").at(0).at("count").get<uint64_t>(), 200u);
  EXPECT_EQ(pipelined.at("targets").at(0).at("error_rate").get<double>(), 0) << pipelined.at("targets").at(0).dump();
}

TEST(Load, RedisPingAndAGetSetMixAgainstARealRedisServer) {
  if (!installed("redis-server")) GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
  const int port = free_port();
  Daemon redis({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"});
  ASSERT_TRUE(wait_listening(port));
  TestUpstream unused;
  ServerProcess server;
  const int proxied = server.create_proxy("redis", port);
  const std::string url = "redis://127.0.0.1:" + std::to_string(proxied);
  const json ping = load({url, "--concurrency", "4", "--duration", "1s", "--warmup", "0s"});
  EXPECT_GT(ping.at("targets").at(0).at("count").get<uint64_t>(), 200u);
  EXPECT_EQ(ping.at("targets").at(0).at("error_rate").get<double>(), 0);
  const json mix = load({url, "--rate", "1000/s", "--duration", "1s", "--warmup", "0s", "--mix", "get=50,set=50", "--keys", "20"});
  EXPECT_NEAR(mix.at("targets").at(0).at("count").get<double>(), 1000, 10);
  EXPECT_EQ(mix.at("targets").at(0).at("error_rate").get<double>(), 0) << mix.at("targets").at(0).dump();
  // As redis-benchmark -P: sixteen commands on the wire per connection, replies matched in order.
  const json pipelined = load({url, "--rate", "4000/s", "--connections", "4", "--pipeline", "16", "--duration", "1s", "--warmup", "0s",
                               "--mix", "get=50,set=50", "--keys", "20"});
  EXPECT_NEAR(pipelined.at("targets").at(0).at("count").get<double>(), 4000, 40);
  EXPECT_EQ(pipelined.at("targets").at(0).at("error_rate").get<double>(), 0) << pipelined.at("targets").at(0).dump();
}

TEST(Load, MemcachedKeysAreSpreadOverThreeServersBehindThreeProxies) {
  if (!installed("memcached")) GTEST_SKIP() << "memcached is not installed (scripts/setup.sh installs it)";
  ServerProcess server;
  std::vector<std::unique_ptr<Daemon>> servers;
  std::string url = "memcached://";
  for (int i = 0; i < 3; ++i) {
    const int port = free_port();
    servers.push_back(std::make_unique<Daemon>(std::vector<std::string>{
        "memcached", "-l", "127.0.0.1", "-p", std::to_string(port), "-U", "0", "-m", "16", "-u", ::getuid() == 0 ? "root" : "nobody"}));
    ASSERT_TRUE(wait_listening(port));
    const int proxied = server.create_proxy("mc" + std::to_string(i), port);
    url += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(proxied);
  }
  const json r = load({url, "--rate", "1500/s", "--duration", "1s", "--warmup", "0s"});
  EXPECT_NEAR(r.at("targets").at(0).at("count").get<double>(), 1500, 15);
  EXPECT_EQ(r.at("targets").at(0).at("error_rate").get<double>(), 0) << r.at("targets").at(0).dump();
  const json stats = json::parse(server.api().get("/faultline/stats").body);
  for (const std::string name : {"mc0", "mc1", "mc2"}) {
    EXPECT_GT(stats.at(name).at("bytes_upstream").get<uint64_t>(), 5000u) << name << " got its share of the keys";
  }
  const json pipelined = load({url, "--rate", "3000/s", "--connections", "3", "--pipeline", "8", "--duration", "1s", "--warmup", "0s"});
  EXPECT_NEAR(pipelined.at("targets").at(0).at("count").get<double>(), 3000, 30);
  EXPECT_EQ(pipelined.at("targets").at(0).at("error_rate").get<double>(), 0) << pipelined.at("targets").at(0).dump();
}

TEST(Load, EachErrorClassIsCausedOnPurpose) {
  TestUpstream echo;
  TestUpstream greeter(TestUpstream::greet("hello, I speak first"));
  ServerProcess server;
  const int blackhole = server.create_proxy("blackhole", echo.port());
  server.api().post("/proxies/blackhole/toxics", R"({"type":"timeout","attributes":{"timeout":0}})");
  const int resetting = server.create_proxy("resetting", echo.port());
  server.api().post("/proxies/resetting/toxics", R"({"type":"reset_peer","attributes":{"timeout":0}})");
  const int limited = server.create_proxy("limited", echo.port());
  server.api().post("/proxies/limited/toxics", R"({"type":"limit_data","attributes":{"bytes":10}})");
  const int down = server.create_proxy("down", echo.port());
  server.api().post("/proxies/down", R"({"enabled":false})");
  const int chatty = server.create_proxy("chatty", greeter.port());

  auto only = [&](int port, const std::string& what, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {tcp(port), "--concurrency", "2", "--duration", "600ms", "--warmup", "0s",
                                     "--timeout", "150ms", "--payload", "32"};
    args.insert(args.end(), extra.begin(), extra.end());
    const json r = load(args);
    const json& t = r.at("targets").at(0);
    EXPECT_GT(errors_of(t, what), 0u) << what << ": " << t.dump();
    EXPECT_EQ(errors_of(t, what), t.at("count").get<uint64_t>() - t.at("ok").get<uint64_t>()) << what << ": " << t.dump();
    EXPECT_TRUE(t.at("error_examples").contains(what));
  };
  only(blackhole, "timeout");
  only(resetting, "reset");
  only(limited, "closed");
  only(down, "refused", {"--no-check"});
  only(chatty, "mismatch");

  // A connection that ends with requests pipelined on it fails every one of
  // them, and the client carries on over a new connection.
  const int cut = server.create_proxy("cut", echo.port());
  server.api().post("/proxies/cut/toxics", R"({"type":"latency","attributes":{"latency":20}})");
  server.api().post("/proxies/cut/toxics", R"({"name":"cap","type":"limit_data","stream":"downstream","attributes":{"bytes":320}})");
  const json r = load({tcp(cut), "--rate", "400/s", "--connections", "1", "--pipeline", "16", "--duration", "1s", "--warmup", "0s",
                       "--payload", "32"});
  const json& t = r.at("targets").at(0);
  EXPECT_GT(t.at("ok").get<uint64_t>(), 50u) << "ten replies per connection, over many connections: " << t.dump();
  EXPECT_GT(errors_of(t, "closed"), t.at("ok").get<uint64_t>() / 10) << "several requests lost with each connection: " << t.dump();
  EXPECT_EQ(errors_of(t, "closed"), t.at("count").get<uint64_t>() - t.at("ok").get<uint64_t>()) << t.dump();
}

TEST(Load, TimeToImpactAndRecoveryOfAKnownOutageComeFromTheEventStream) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("db", echo.port());
  const std::string report = temp_path("report.html");
  // The outage: 1.5 s after the run begins (0.5 s into the measured part), for 1 s.
  std::thread outage([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    server.api().post("/proxies/db", R"({"enabled":false})");
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    server.api().post("/proxies/db", R"({"enabled":true})");
  });
  const json r = load({tcp(port), "--rate", "1000/s", "--duration", "3500ms", "--warmup", "1s", "--timeout", "300ms",
                       "--events", api_url(server.api_port()), "--report", report});
  outage.join();
  ASSERT_EQ(r.at("faults").size(), 1u) << r.at("faults").dump();
  const json& f = r.at("faults").at(0);
  EXPECT_EQ(f.at("proxy"), "db");
  EXPECT_EQ(f.at("fault"), "proxy disabled");
  EXPECT_NEAR(f.at("off_s").get<double>() - f.at("on_s").get<double>(), 1.0, 0.15);
  ASSERT_TRUE(f.at("time_to_impact_ms").is_number()) << f.dump();
  ASSERT_TRUE(f.at("time_to_recovery_ms").is_number()) << f.dump();
  // Refusals start and stop within a slice of the events; the margins are
  // for a loaded machine (a scheduling hiccup can push one slice out of the band).
  EXPECT_LE(f.at("time_to_impact_ms").get<double>(), 200) << r.at("slices").dump();
  EXPECT_LE(f.at("time_to_recovery_ms").get<double>(), 600) << r.at("baseline").dump() << r.at("slices").dump();
  const json& t = r.at("targets").at(0);
  EXPECT_NEAR(static_cast<double>(errors_of(t, "refused")), 1000, 150) << "1 s of refusals at 1000/s";
  std::vector<std::string> types;
  for (const auto& e : r.at("events")) types.push_back(e.at("type"));
  EXPECT_EQ(types, (std::vector<std::string>{"proxy_disabled", "proxy_enabled"}));
  EXPECT_TRUE(r.at("baseline").at("measured").get<bool>());

  const std::string html = read_file(report);
  ::unlink(report.c_str());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  size_t charts = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++charts;
  EXPECT_EQ(charts, 3u) << "latency, throughput and error rate";
  EXPECT_NE(html.find("class=\"fault\"><title>db: proxy disabled</title>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "nothing runs, nothing is fetched";
  EXPECT_EQ(html.find("http://"), std::string::npos);
}

TEST(Load, ALiveLinePerIntervalOnRequest) {
  TestUpstream echo;
  const std::string path = temp_path("live.json");
  const CliResult r = run_cli({"load", tcp(echo.port()), "--rate", "100/s", "--duration", "1500ms", "--warmup", "0s",
                               "--interval", "500ms", "--live"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int live = 0;
  for (const auto& line : lines_of(r.err))
    if (line.find("req/s  p50") != std::string::npos) ++live;
  EXPECT_GE(live, 3) << r.err;
  EXPECT_NE(r.out.find("p99.9 ms"), std::string::npos) << "the final table goes to stdout";
}

TEST(Load, CtrlCEndsTheRunEarlyWithTheTableOfWhatWasMeasured) {
  TestUpstream echo;
  const std::string out_path = temp_path("interrupted.txt");
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, STDOUT_FILENO);
    const std::string target = tcp(echo.port());
    ::execl(FAULTLINE_CLI_PATH, "faultline", "load", target.c_str(), "--rate", "200/s", "--duration", "60s", "--warmup",
            "0s", "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(child, SIGINT);
  int status = 0;
  const auto sent = std::chrono::steady_clock::now();
  ::waitpid(child, &status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(5)) << "it stops at once, not after 60 s";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const std::string out = read_file(out_path);
  ::unlink(out_path.c_str());
  EXPECT_NE(out.find("(interrupted)"), std::string::npos) << out;
  EXPECT_NE(out.find(tcp(echo.port())), std::string::npos) << out;
}

TEST(Load, BadInputIsAOneLineError) {
  auto fails = [](std::vector<std::string> args, const std::string& expected, int code) {
    args.insert(args.begin(), "load");
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  };
  fails({"gopher://127.0.0.1:1"}, "unknown scheme \"gopher\"", 2);
  fails({"tcp://127.0.0.1:1", "--rate", "fast"}, "invalid --rate \"fast\"", 2);
  fails({"tcp://127.0.0.1:1", "--rate", "10/s", "--concurrency", "3"}, "exclude each other", 2);
  fails({"tcp://127.0.0.1:1", "--duration", "forever"}, "invalid --duration", 2);
  fails({"redis://127.0.0.1:1", "--mix", "get=1,del=2"}, "invalid --mix item \"del=2\"", 2);
  fails({"tcp://127.0.0.1:1", "--pipeline", "0"}, "invalid --pipeline 0 (allowed: 1 to 1024)", 2);
  fails({"tcp://127.0.0.1:1", "--pipeline", "4", "--new-connections"}, "exclude each other", 2);
  const int closed = free_port();
  fails({"tcp://127.0.0.1:" + std::to_string(closed)}, "cannot connect to 127.0.0.1:" + std::to_string(closed), 1);
  TestUpstream echo;
  fails({tcp(echo.port()), "--events", "http://127.0.0.1:" + std::to_string(closed)}, "--events", 1);
}

}  // namespace
}  // namespace faultline::test
