// Operator shortcuts: down/up, latency, timeout, reset-peer, bandwidth,
// clear, status; re-running one updates instead of failing on 409.
#include <thread>

#include "CliFixture.h"
#include "Sockets.h"

namespace faultline::test {

TEST_F(CliTest, DownAndUpDisableAndEnableAndAreIdempotent) {
  create("api");
  EXPECT_EQ(cli({"down", "api"}).out, "Proxy api is now disabled\n");
  EXPECT_FALSE(proxy_json("api")["enabled"].get<bool>());
  EXPECT_EQ(cli({"down", "api"}).exit_code, 0);
  EXPECT_FALSE(proxy_json("api")["enabled"].get<bool>());
  EXPECT_EQ(cli({"up", "api"}).out, "Proxy api is now enabled\n");
  EXPECT_TRUE(proxy_json("api")["enabled"].get<bool>());
  const auto missing = cli({"down", "nosuch"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Failed to disable proxy nosuch: HTTP 404: proxy not found\n");
}

TEST_F(CliTest, LatencyWithJitterAndBothDirections) {
  create("api");
  const auto result = cli({"latency", "api", "1500", "--jitter", "200", "--direction", "both"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "Added upstream latency toxic 'latency_upstream' on proxy 'api'\n"
            "Added downstream latency toxic 'latency_downstream' on proxy 'api'\n");
  for (const char* name : {"latency_upstream", "latency_downstream"}) {
    const auto toxic = toxic_json("api", name);
    EXPECT_EQ(toxic["attributes"]["latency"], 1500) << name;
    EXPECT_EQ(toxic["attributes"]["jitter"], 200) << name;
  }
}

TEST_F(CliTest, RunningLatencyTwiceUpdatesInsteadOfFailing) {
  create("api");
  ASSERT_EQ(cli({"latency", "api", "1s", "--jitter", "200ms", "--direction", "up"}).exit_code, 0);
  const auto again = cli({"latency", "api", "2s", "--direction", "up"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "Updated toxic 'latency_upstream' on proxy 'api'\n");
  const auto toxic = toxic_json("api", "latency_upstream");
  EXPECT_EQ(toxic["attributes"]["latency"], 2000);
  EXPECT_EQ(toxic["attributes"]["jitter"], 0) << "a re-run sets the whole toxic, as a first run would";
  EXPECT_EQ(proxy_json("api")["toxics"].size(), 1u);
}

TEST_F(CliTest, LatencyDefaultsToDownstreamAndOffRemovesBoth) {
  create("api");
  ASSERT_EQ(cli({"latency", "api", "100", "--direction", "both"}).exit_code, 0);
  ASSERT_EQ(cli({"latency", "api", "100"}).out, "Updated toxic 'latency_downstream' on proxy 'api'\n");
  const auto off = cli({"latency", "api", "off"});
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out,
            "Removed toxic 'latency_upstream' on proxy 'api'\nRemoved toxic 'latency_downstream' on proxy 'api'\n");
  EXPECT_TRUE(proxy_json("api")["toxics"].empty());
  // Removing what is not there is fine: the goal is met.
  EXPECT_EQ(cli({"latency", "api", "off", "--direction", "up"}).out, "No toxic 'latency_upstream' on proxy 'api'\n");
}

TEST_F(CliTest, TimeoutResetPeerAndBandwidthWithUnits) {
  create("api");
  EXPECT_EQ(cli({"timeout", "api", "30000", "--direction", "both"}).exit_code, 0);
  EXPECT_EQ(toxic_json("api", "timeout_upstream")["attributes"]["timeout"], 30000);
  EXPECT_EQ(toxic_json("api", "timeout_downstream")["attributes"]["timeout"], 30000);
  EXPECT_EQ(cli({"timeout", "api", "1m", "--direction", "both"}).exit_code, 0);
  EXPECT_EQ(toxic_json("api", "timeout_upstream")["attributes"]["timeout"], 60000);

  auto result = cli({"reset-peer", "api"});
  EXPECT_EQ(result.out, "Added downstream reset_peer toxic 'reset_peer_downstream' on proxy 'api'\n");
  EXPECT_EQ(toxic_json("api", "reset_peer_downstream")["attributes"]["timeout"], 0);
  EXPECT_EQ(cli({"reset-peer", "api", "2s", "--tox", "0.5"}).exit_code, 0);
  EXPECT_EQ(toxic_json("api", "reset_peer_downstream")["attributes"]["timeout"], 2000);
  EXPECT_DOUBLE_EQ(toxic_json("api", "reset_peer_downstream")["toxicity"].get<double>(), 0.5);

  EXPECT_EQ(cli({"bandwidth", "api", "100kB/s", "--direction", "up"}).exit_code, 0);
  EXPECT_EQ(toxic_json("api", "bandwidth_upstream")["attributes"]["rate"], 100);
  EXPECT_EQ(cli({"bandwidth", "api", "2MB/s", "--direction", "up"}).exit_code, 0);
  EXPECT_EQ(toxic_json("api", "bandwidth_upstream")["attributes"]["rate"], 2000);
  EXPECT_EQ(cli({"bandwidth", "api", "50", "--direction", "up"}).exit_code, 0);
  EXPECT_EQ(toxic_json("api", "bandwidth_upstream")["attributes"]["rate"], 50);
}

TEST_F(CliTest, HttpErrorWithPathMethodsAndRate) {
  create("web");
  auto result = cli({"http-error", "web", "503", "--path", "/api/*", "--method", "POST,PUT", "--rate", "0.2"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto toxic = toxic_json("web", "http_error_upstream");
  EXPECT_EQ(toxic["type"], "http_error");
  EXPECT_EQ(toxic["attributes"]["status"], 503);
  EXPECT_EQ(toxic["attributes"]["path"], "/api/*");
  EXPECT_EQ(toxic["attributes"]["method"], nlohmann::json::array({"POST", "PUT"}));
  EXPECT_DOUBLE_EQ(toxic["toxicity"].get<double>(), 0.2);
  // Again with other values: updated in place.
  EXPECT_EQ(cli({"http-error", "web", "429"}).exit_code, 0);
  EXPECT_EQ(toxic_json("web", "http_error_upstream")["attributes"]["status"], 429);
  EXPECT_EQ(toxic_json("web", "http_error_upstream")["attributes"]["path"], "");
  for (const std::string bad : {"99", "600", "5xx"}) {
    const auto refused = cli({"http-error", "web", bad});
    EXPECT_EQ(refused.exit_code, 1) << bad;
    EXPECT_EQ(lines_of(refused.err).size(), 1u) << refused.err;
  }
  EXPECT_EQ(cli({"http-error", "web", "off"}).out, "Removed toxic 'http_error_upstream' on proxy 'web'\n");
}

TEST_F(CliTest, HttpDelayAndHttpAbort) {
  create("web");
  auto result = cli({"http-delay", "web", "300ms", "--path", "/search", "--jitter", "50ms", "--at", "response", "--rate", "0.5"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto delay = toxic_json("web", "http_delay_upstream");
  EXPECT_EQ(delay["type"], "http_delay");
  EXPECT_EQ(delay["attributes"]["delay"], 300);
  EXPECT_EQ(delay["attributes"]["jitter"], 50);
  EXPECT_EQ(delay["attributes"]["at"], "response");
  EXPECT_EQ(delay["attributes"]["path"], "/search");
  EXPECT_DOUBLE_EQ(delay["toxicity"].get<double>(), 0.5);
  EXPECT_EQ(cli({"http-delay", "web", "soon"}).exit_code, 1);
  result = cli({"http-abort", "web", "mid_response", "--after-bytes", "1000", "--mode", "close", "--method", "GET"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto abort = toxic_json("web", "http_abort_upstream");
  EXPECT_EQ(abort["attributes"]["at"], "mid_response");
  EXPECT_EQ(abort["attributes"]["after_bytes"], 1000);
  EXPECT_EQ(abort["attributes"]["mode"], "close");
  const auto refused = cli({"http-abort", "web", "sometimes"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(lines_of(refused.err).size(), 1u) << refused.err;
  EXPECT_EQ(cli({"http-delay", "web", "off"}).out, "Removed toxic 'http_delay_upstream' on proxy 'web'\n");
  EXPECT_EQ(cli({"http-abort", "web", "off"}).out, "Removed toxic 'http_abort_upstream' on proxy 'web'\n");
}

TEST_F(CliTest, ShortcutsRejectBadValuesWithOneLine) {
  create("api");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"latency", "api", "fast"},
           {"latency", "api", "10", "--direction", "sideways"},
           {"bandwidth", "api", "10kb/s"},
           {"timeout", "api", "-5"},
           {"latency", "api", "10", "--tox", "2"}}) {
    const auto result = cli(args);
    EXPECT_EQ(result.exit_code, 1) << args[0] << " " << args[2];
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  }
  EXPECT_TRUE(proxy_json("api")["toxics"].empty());
  const auto missing = cli({"latency", "nosuch", "10"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Failed to add toxic: failed to add toxic to proxy nosuch: AddToxic: HTTP 404: proxy not found\n");
}

TEST_F(CliTest, ClearRemovesEveryToxic) {
  create("api");
  ASSERT_EQ(cli({"latency", "api", "10", "--direction", "both"}).exit_code, 0);
  ASSERT_EQ(cli({"toxic", "add", "api", "-t", "slicer", "-n", "sl"}).exit_code, 0);
  const auto result = cli({"clear", "api"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(lines_of(result.out).size(), 3u);
  EXPECT_TRUE(proxy_json("api")["toxics"].empty());
  EXPECT_EQ(cli({"clear", "api"}).out, "Proxy api has no toxics\n");
  EXPECT_EQ(cli({"clear", "nosuch"}).err, "Failed to retrieve proxy nosuch: HTTP 404: proxy not found\n");
}

TEST_F(CliTest, StatusShowsEveryProxyAndToxic) {
  create("api");
  create("db");
  ASSERT_EQ(cli({"latency", "api", "1500", "--jitter", "200", "--direction", "both"}).exit_code, 0);
  ASSERT_EQ(cli({"down", "db"}).exit_code, 0);
  // One live connection through "api".
  const std::string api_listen = proxy_json("api")["listen"];
  Socket live(connect_tcp(std::stoi(api_listen.substr(api_listen.rfind(':') + 1))));
  ASSERT_TRUE(live.valid());
  ASSERT_TRUE(echo.wait_accepted(1));
  const auto result = cli({"status"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 4u) << result.out;
  EXPECT_EQ(lines[0].rfind("PROXY  STATE", 0), 0u) << lines[0];
  ASSERT_NE(lines[0].find("CONNS"), std::string::npos) << "faultline reports live connections";
  EXPECT_EQ(lines[1].substr(lines[0].find("CONNS"), 2), "1 ") << lines[1];
  EXPECT_EQ(lines[1].rfind("api    enabled", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("latency_upstream"), std::string::npos);
  EXPECT_NE(lines[1].find("jitter=200 latency=1500"), std::string::npos);
  EXPECT_EQ(lines[2].find_first_not_of(' '), lines[0].find("TOXIC")) << "second toxic row continues the same proxy";
  EXPECT_EQ(lines[3].rfind("db     disabled", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find(upstream()), std::string::npos);

  const auto json = cli({"status", "--json"});
  EXPECT_EQ(nlohmann::json::parse(json.out), nlohmann::json::parse(server.api().get("/proxies").body));
}

TEST(FaultlineStats, LiveFiguresPerProxy) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("s", echo.port());
  Socket c(connect_tcp(port));
  c.send("12345");
  ASSERT_EQ(recv_exact(c.fd(), 5).data, "12345");
  // The proxy counts a write just after making it, so the echo can reach
  // the client a moment before the count does: read until it is there.
  nlohmann::json stats;
  for (int i = 0; i < 200; ++i) {
    const auto r = server.api().get("/faultline/stats");
    ASSERT_EQ(r.status, 200);
    stats = nlohmann::json::parse(r.body)["s"];
    if (stats["bytes_downstream"] == 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(stats["enabled"], true);
  EXPECT_EQ(stats["connections"], 1);
  EXPECT_EQ(stats["connections_accepted"], 1);
  EXPECT_EQ(stats["bytes_upstream"], 5);
  EXPECT_EQ(stats["bytes_downstream"], 5);
}

TEST_F(CliTest, StatusWithNoProxies) {
  const auto result = cli({"status"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "no proxies\n");
}

}  // namespace faultline::test
