// /metrics is valid Prometheus text whose values move with traffic and
// toxics; logs in JSON carry the documented fields.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

// A strict reading of the text exposition format: HELP/TYPE lines, then
// samples `name{label="value",...} number`. Returns series -> value and
// fails the test on any malformed line.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$)");
  static const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  static const std::regex type(R"(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|summary|histogram|untyped)$)");
  std::map<std::string, double> series;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, help)) << line;
      continue;
    }
    if (line.rfind("# TYPE", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, type)) << line;
      continue;
    }
    std::smatch m;
    if (!std::regex_match(line, m, sample)) {
      ADD_FAILURE() << "not a valid sample line: " << line;
      continue;
    }
    const std::string key = line.substr(0, line.rfind(' '));
    EXPECT_EQ(series.count(key), 0u) << "duplicate series " << key;
    series[key] = std::stod(m[7].str());
  }
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  return series;
}

double value_of(const std::map<std::string, double>& series, const std::string& key) {
  auto it = series.find(key);
  return it == series.end() ? -1 : it->second;
}

}  // namespace

TEST(Metrics, ValidTextWhoseCountersMoveWhileDataFlows) {
  TestUpstream echo;
  ServerProcess server(ServerOptions{{"-proxy-metrics", "-runtime-metrics"}});
  const int port = server.create_proxy("m", echo.port());
  const std::string upstream = "127.0.0.1:" + std::to_string(echo.port());
  const std::string listener = "127.0.0.1:" + std::to_string(port);

  HttpResponse r = server.api().get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  auto before = parse_prometheus(r.body);
  EXPECT_EQ(value_of(before, R"(faultline_proxy_enabled{proxy="m"})"), 1);
  EXPECT_EQ(value_of(before, R"(promhttp_metric_handler_errors_total{cause="encoding"})"), 0);
  EXPECT_GT(value_of(before, "process_resident_memory_bytes"), 0);
  EXPECT_GT(value_of(before, "process_open_fds"), 0);

  // One connection stays open: D11 says the counters move anyway.
  Socket s(connect_tcp(port));
  s.send(std::string(5000, 'x'));
  ASSERT_EQ(recv_exact(s.fd(), 5000).data.size(), 5000u);
  auto during = parse_prometheus(server.api().get("/metrics").body);
  const std::string labels = "{direction=\"upstream\",listener=\"" + listener + "\",proxy=\"m\",upstream=\"" + upstream + "\"}";
  EXPECT_EQ(value_of(during, "toxiproxy_proxy_received_bytes_total" + labels), 5000);
  EXPECT_EQ(value_of(during, "toxiproxy_proxy_sent_bytes_total" + labels), 5000);
  EXPECT_EQ(value_of(during, R"(faultline_proxy_bytes_total{direction="downstream",proxy="m"})"), 5000);
  EXPECT_EQ(value_of(during, R"(faultline_proxy_connections_active{proxy="m"})"), 1);
  EXPECT_EQ(value_of(during, R"(faultline_proxy_connections_accepted_total{proxy="m"})"), 1);
  EXPECT_EQ(value_of(during, R"(faultline_proxy_upstream_connect_seconds_count{proxy="m"})"), 1);
  EXPECT_GE(value_of(during, R"(faultline_api_requests_total{method="POST",route="/proxies",status="201"})"), 1);
}

TEST(Metrics, ToxicsAndTheirActivationsAreCounted) {
  TestUpstream echo;
  ServerProcess server(ServerOptions{{"-proxy-metrics", "-seed", "3"}});
  const int port = server.create_proxy("t", echo.port());
  server.api().post("/proxies/t/toxics", R"({"name":"always","type":"latency","attributes":{"latency":1}})");
  server.api().post("/proxies/t/toxics", R"({"name":"never","type":"latency","toxicity":0,"attributes":{"latency":1}})");
  for (int i = 0; i < 3; ++i) {
    Socket s(connect_tcp(port));
    s.send("x");
    ASSERT_EQ(recv_exact(s.fd(), 1).data, "x");
  }
  auto m = parse_prometheus(server.api().get("/metrics").body);
  EXPECT_EQ(value_of(m, R"(faultline_proxy_toxics{proxy="t",type="latency"})"), 2);
  EXPECT_EQ(value_of(m, R"(faultline_toxic_activations_total{proxy="t",stream="downstream",toxic="always",type="latency"})"), 3);
  EXPECT_EQ(value_of(m, R"(faultline_toxic_activations_total{proxy="t",stream="downstream",toxic="never",type="latency"})"), 0);
}

TEST(Metrics, ChaosEventsAreCountedByKind) {
  TestUpstream echo;
  ServerProcess server(ServerOptions{{"-proxy-metrics"}});
  const int port = server.create_proxy("c", echo.port());
  server.api().post("/proxies/c/toxics", R"({"name":"cut","type":"reset_peer","attributes":{"timeout":20}})");
  for (int i = 0; i < 2; ++i) {
    Socket s(connect_tcp(port));
    EXPECT_EQ(wait_for_end(s.fd()), ReadEnd::Reset);
  }
  auto m = parse_prometheus(server.api().get("/metrics").body);
  EXPECT_EQ(value_of(m, R"(faultline_chaos_events_total{event="reset_sent",proxy="c"})"), 2);
  EXPECT_EQ(value_of(m, R"(faultline_chaos_events_total{event="toxic_applied",proxy="c"})"), 2);
}

TEST(Metrics, UpstreamConnectFailuresAreCounted) {
  const int closed_port = free_port();
  ServerProcess server(ServerOptions{{"-proxy-metrics"}});
  const int port = server.create_proxy("down", closed_port);
  Socket s(connect_tcp(port));
  EXPECT_NE(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Timeout);
  auto m = parse_prometheus(server.api().get("/metrics").body);
  EXPECT_EQ(value_of(m, R"(faultline_proxy_upstream_connect_failures_total{proxy="down"})"), 1);
  // Logs are written by a background thread: give it a moment.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (server.output().find("upstream connect failed") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(server.output().find("upstream connect failed"), std::string::npos);
}

TEST(Logs, JsonFormatHasTimeLevelMessageAndTheChangesValues) {
  TestUpstream echo;
  ServerProcess server(ServerOptions{{"-log-format", "json"}, {{"LOG_LEVEL", "debug"}}});
  const int port = server.create_proxy("logged", echo.port());
  server.api().post("/proxies/logged/toxics", R"({"type":"latency","attributes":{"latency":7}})");
  {
    Socket s(connect_tcp(port));
    s.send("hi");
    ASSERT_EQ(recv_exact(s.fd(), 2).data, "hi");
  }
  std::map<std::string, nlohmann::json> by_message;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline && !by_message.count("connection closed")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::istringstream in(server.output());
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
      ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
      by_message[j["msg"]] = j;
    }
  }
  ASSERT_TRUE(by_message.count("server started"));
  ASSERT_TRUE(by_message.count("proxy created"));
  EXPECT_EQ(by_message["proxy created"]["name"], "logged");
  EXPECT_EQ(by_message["proxy created"]["upstream"], "127.0.0.1:" + std::to_string(echo.port()));
  ASSERT_TRUE(by_message.count("toxic added"));
  EXPECT_EQ(by_message["toxic added"]["type"], "latency");
  ASSERT_TRUE(by_message.count("toxic applied"));
  EXPECT_EQ(by_message["toxic applied"]["proxy"], "logged");
  ASSERT_TRUE(by_message.count("connection closed"));
  EXPECT_EQ(by_message["connection closed"]["bytes_upstream"], 2);
  EXPECT_EQ(by_message["connection closed"]["level"], "debug");
}

}  // namespace faultline::test

namespace faultline::test {
namespace {

// Regression: the figures of /faultline/stats and /metrics restarted from 0
// each time a proxy was disabled and enabled again.
TEST(Stats, FiguresGoOnCountingAcrossDisableAndEnable) {
  TestUpstream echo;
  ServerProcess server(ServerOptions{{"-proxy-metrics"}});
  const int port = server.create_proxy("toggled", echo.port());
  auto one_round_trip = [&] {
    Socket s(connect_tcp(port));
    s.send("hello");
    ASSERT_EQ(recv_exact(s.fd(), 5).data, "hello");
  };
  one_round_trip();
  ASSERT_EQ(server.api().post("/proxies/toggled", R"({"enabled":false})").status, 200);
  auto stats = nlohmann::json::parse(server.api().get("/faultline/stats").body)["toggled"];
  EXPECT_EQ(stats["enabled"], false);
  EXPECT_EQ(stats["connections_accepted"], 1) << "a disabled proxy still shows what it did";
  ASSERT_EQ(server.api().post("/proxies/toggled", R"({"enabled":true})").status, 200);
  one_round_trip();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  do {
    stats = nlohmann::json::parse(server.api().get("/faultline/stats").body)["toggled"];
  } while (stats["connections"] != 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(stats["connections_accepted"], 2);
  EXPECT_EQ(stats["bytes_upstream"], 10);
  EXPECT_EQ(stats["bytes_downstream"], 10);
  auto m = parse_prometheus(server.api().get("/metrics").body);
  EXPECT_EQ(value_of(m, R"(faultline_proxy_connections_accepted_total{proxy="toggled"})"), 2);
  EXPECT_EQ(value_of(m, R"(faultline_proxy_bytes_total{direction="upstream",proxy="toggled"})"), 10);
}

}  // namespace
}  // namespace faultline::test
