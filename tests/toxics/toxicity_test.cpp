// Toxicity is drawn once per connection and toxic (D6); -seed makes the draws
// reproducible (D12).
#include "ToxicTestSupport.h"

namespace faultline::test {

namespace {

// Opens `count` connections one after another and reports, for each, whether
// the 200 ms latency toxic applied to it (checked twice: the draw must be stable).
std::string slowed_pattern(ServerProcess& server, int port, int count) {
  std::string pattern;
  for (int i = 0; i < count; ++i) {
    Socket s(connect_tcp(port));
    auto rtt = [&] {
      const auto start = Clock::now();
      s.send("x");
      recv_exact(s.fd(), 1, std::chrono::seconds(3));
      return ms_since(start);
    };
    const bool first = rtt() >= 150;
    const bool second = rtt() >= 150;
    pattern += first != second ? '?' : first ? 'S' : '.';
  }
  (void)server;
  return pattern;
}

}  // namespace

TEST(Toxicity, ZeroNeverAppliesAndOneAlwaysDoes) {
  TestUpstream echo;
  ServerProcess server;
  const int never = server.create_proxy("never", echo.port());
  const int always = server.create_proxy("always", echo.port());
  server.api().post("/proxies/never/toxics", R"({"type":"latency","toxicity":0,"attributes":{"latency":200}})");
  server.api().post("/proxies/always/toxics", R"({"type":"latency","toxicity":1,"attributes":{"latency":200}})");
  EXPECT_EQ(slowed_pattern(server, never, 8), "........");
  EXPECT_EQ(slowed_pattern(server, always, 8), "SSSSSSSS");
}

TEST(Toxicity, HalfAppliesToAboutHalfTheConnectionsStablyAndReproducibly) {
  TestUpstream echo;
  std::string patterns[2];
  for (auto& pattern : patterns) {
    ServerProcess server(ServerOptions{{"-seed", "1234"}});
    const int port = server.create_proxy("half", echo.port());
    server.api().post("/proxies/half/toxics", R"({"type":"latency","toxicity":0.5,"attributes":{"latency":200}})");
    pattern = slowed_pattern(server, port, 24);
  }
  EXPECT_EQ(patterns[0].find('?'), std::string::npos) << "a connection changed its draw: " << patterns[0];
  const auto slowed = std::count(patterns[0].begin(), patterns[0].end(), 'S');
  EXPECT_GE(slowed, 5) << patterns[0];   // binomial(24, 0.5): 5..19 holds with p > 0.998
  EXPECT_LE(slowed, 19) << patterns[0];
  EXPECT_EQ(patterns[0], patterns[1]) << "the same seed must make the same decisions";
}

TEST(Toxicity, UpdatingToxicityDrawsAgainOnOpenConnections) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("p", echo.port());
  server.api().post("/proxies/p/toxics", R"({"name":"lat","type":"latency","toxicity":0,"attributes":{"latency":200}})");
  Socket s(connect_tcp(port));
  auto rtt = [&] {
    const auto start = Clock::now();
    s.send("x");
    recv_exact(s.fd(), 1, std::chrono::seconds(3));
    return ms_since(start);
  };
  EXPECT_LT(rtt(), 150);
  ASSERT_EQ(server.api().patch("/proxies/p/toxics/lat", R"({"toxicity":1})").status, 200);
  EXPECT_GE(rtt(), 195);
}

}  // namespace faultline::test
