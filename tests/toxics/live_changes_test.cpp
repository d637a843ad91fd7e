// Toxics changing under live traffic: nothing lost, duplicated or reordered
// while a direction switches between the zero-copy path and the toxic path;
// several toxics on several proxies at once.
#include "ToxicTestSupport.h"

#include <atomic>
#include <thread>

namespace faultline::test {

using LiveChanges = ToxicTest;

TEST_F(LiveChanges, SwitchingPathsMidStreamLosesNoByte) {
  Socket s = connect();
  const std::string payload = random_bytes(24 * 1024 * 1024, 21);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    // Sent in slices so the stream is still flowing while toxics come and go.
    for (size_t off = 0; off < payload.size(); off += 256 * 1024) s.send(payload.substr(off, 256 * 1024));
  });
  std::thread toggler([&] {
    int round = 0;
    while (!done) {
      const char* stream = round % 2 ? "upstream" : "downstream";
      const std::string name = std::string("t") + std::to_string(round);
      server_->api().post("/proxies/p/toxics", "{\"name\":\"" + name + "\",\"type\":\"latency\",\"stream\":\"" + stream +
                                                   "\",\"attributes\":{\"latency\":1}}");
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      server_->api().del("/proxies/p/toxics/" + name);
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      ++round;
    }
  });
  ReadResult r = recv_exact(s.fd(), payload.size(), std::chrono::seconds(60));
  done = true;
  toggler.join();
  writer.join();
  ASSERT_EQ(r.data.size(), payload.size());
  EXPECT_TRUE(r.data == payload) << "bytes lost, duplicated or reordered across path switches";
}

TEST_F(LiveChanges, AToxicOnOneDirectionLeavesTheOtherAlone) {
  add_toxic(R"({"type":"bandwidth","stream":"upstream","attributes":{"rate":0}})");
  // The downstream direction still flows: a greeting from the server gets through.
  TestUpstream greeter(TestUpstream::greet("hello"));
  const int port = server_->create_proxy("greeter", greeter.port());
  server_->api().post("/proxies/greeter/toxics", R"({"type":"bandwidth","stream":"upstream","attributes":{"rate":0}})");
  Socket s(connect_tcp(port));
  EXPECT_EQ(recv_exact(s.fd(), 5, std::chrono::seconds(2)).data, "hello");
  s.send("blocked");
  EXPECT_EQ(recv_exact(s.fd(), 1, std::chrono::milliseconds(300)).end, ReadEnd::Timeout);
}

TEST(SeveralProxies, RedisLatencyWhileClickHouseIsDownAndOthersUntouched) {
  TestUpstream redis, clickhouse, postgres;
  ServerProcess server;
  const int redis_port = server.create_proxy("redis", redis.port());
  const int clickhouse_port = server.create_proxy("clickhouse", clickhouse.port());
  const int postgres_port = server.create_proxy("postgres", postgres.port());
  Socket ch_open(connect_tcp(clickhouse_port));
  ASSERT_EQ(server.api().post("/proxies/redis/toxics", R"({"type":"latency","attributes":{"latency":200}})").status, 200);
  ASSERT_EQ(server.api().post("/proxies/redis/toxics", R"({"type":"latency","stream":"upstream","attributes":{"latency":100}})").status, 200);
  ASSERT_EQ(server.api().post("/proxies/clickhouse/toxics", R"({"type":"timeout","attributes":{"timeout":0}})").status, 200);
  ASSERT_EQ(server.api().patch("/proxies/clickhouse", R"({"enabled":false})").status, 200);

  Socket r(connect_tcp(redis_port));
  auto start = Clock::now();
  r.send("GET k");
  EXPECT_EQ(recv_exact(r.fd(), 5).data, "GET k");
  EXPECT_GE(ms_since(start), 290);
  EXPECT_EQ(wait_for_end(ch_open.fd(), std::chrono::seconds(2)), ReadEnd::Eof) << "disabling closes live connections";
  EXPECT_FALSE(port_accepts(clickhouse_port)) << "ClickHouse is down";
  Socket p(connect_tcp(postgres_port));
  start = Clock::now();
  p.send("SELECT 1");
  EXPECT_EQ(recv_exact(p.fd(), 8).data, "SELECT 1");
  EXPECT_LT(ms_since(start), 150) << "a proxy without toxics is untouched";
}

}  // namespace faultline::test
