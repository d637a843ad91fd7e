#include "ToxicTestSupport.h"

#include <thread>

namespace faultline::test {

using LatencyToxic = ToxicTest;

TEST_F(LatencyToxic, DownstreamDelaysEveryReply) {
  Socket s = connect();
  EXPECT_LT(round_trip_ms(s), 150) << "baseline without a toxic";
  add_toxic(R"({"type":"latency","stream":"downstream","attributes":{"latency":250}})");
  const double ms = round_trip_ms(s);
  EXPECT_GE(ms, 245);
  EXPECT_LT(ms, 700);
}

TEST_F(LatencyToxic, UpstreamDelaysEveryRequest) {
  add_toxic(R"({"type":"latency","stream":"upstream","attributes":{"latency":250}})");
  Socket s = connect();
  const double ms = round_trip_ms(s);
  EXPECT_GE(ms, 245);
  EXPECT_LT(ms, 700);
}

TEST_F(LatencyToxic, ChunksArePipelinedNotDelayedCumulatively) {
  add_toxic(R"({"type":"latency","attributes":{"latency":300}})");
  Socket s = connect();
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    s.send(std::string(1, static_cast<char>('a' + i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  ReadResult r = recv_exact(s.fd(), 5, std::chrono::seconds(5));
  const double ms = ms_since(start);
  EXPECT_EQ(r.data, "abcde") << "order kept";
  // Cumulative delays would need 5 x 300 ms; pipelined, the last byte is due at ~540 ms.
  EXPECT_GE(ms, 530);
  EXPECT_LT(ms, 1000);
}

TEST_F(LatencyToxic, TwoLatenciesInOneDirectionAddUp) {
  add_toxic(R"({"name":"a","type":"latency","attributes":{"latency":150}})");
  add_toxic(R"({"name":"b","type":"latency","attributes":{"latency":150}})");
  Socket s = connect();
  const double ms = round_trip_ms(s);
  EXPECT_GE(ms, 295);
  EXPECT_LT(ms, 800);
}

TEST_F(LatencyToxic, JitterSpreadsDelaysWithinItsRange) {
  add_toxic(R"({"type":"latency","attributes":{"latency":100,"jitter":60}})");
  Socket s = connect();
  double lowest = 1e9, highest = 0;
  for (int i = 0; i < 12; ++i) {
    const double ms = round_trip_ms(s);
    ASSERT_GT(ms, 0);
    lowest = std::min(lowest, ms);
    highest = std::max(highest, ms);
  }
  EXPECT_GE(lowest, 39);
  EXPECT_LT(highest, 400);
  EXPECT_GT(highest - lowest, 20) << "jitter should spread the delays";
}

TEST_F(LatencyToxic, AddedToAnOpenConnectionAppliesToTheNextByte) {
  Socket s = connect();
  EXPECT_LT(round_trip_ms(s), 150);
  add_toxic(R"({"type":"latency","attributes":{"latency":300}})");
  EXPECT_GE(round_trip_ms(s), 295);
}

TEST_F(LatencyToxic, RemovingItReleasesHeldDataAtOnce) {
  add_toxic(R"({"type":"latency","attributes":{"latency":10000}})");
  Socket s = connect();
  s.send("held");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = Clock::now();
  remove_toxic("latency_downstream");
  ReadResult r = recv_exact(s.fd(), 4, std::chrono::seconds(3));
  EXPECT_EQ(r.data, "held");
  EXPECT_LT(ms_since(start), 1000) << "held data must be released when the toxic goes";
  EXPECT_LT(round_trip_ms(s), 150) << "and the connection is fast again";
}

TEST_F(LatencyToxic, UpdatingItMidStreamRetimesHeldData) {
  add_toxic(R"({"type":"latency","attributes":{"latency":10000}})");
  Socket s = connect();
  s.send("held");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = Clock::now();
  update_toxic("latency_downstream", R"({"attributes":{"latency":0}})");
  ReadResult r = recv_exact(s.fd(), 4, std::chrono::seconds(3));
  EXPECT_EQ(r.data, "held");
  EXPECT_LT(ms_since(start), 1000);
}

TEST_F(LatencyToxic, ZeroAndNegativeLatencyMeanNoDelay) {
  add_toxic(R"({"name":"zero","type":"latency","attributes":{"latency":0}})");
  add_toxic(R"({"name":"negative","type":"latency","attributes":{"latency":-500}})");
  Socket s = connect();
  EXPECT_LT(round_trip_ms(s), 150);
}

TEST_F(LatencyToxic, LargePayloadArrivesIntactAndInOrder) {
  add_toxic(R"({"type":"latency","stream":"upstream","attributes":{"latency":20,"jitter":15}})");
  add_toxic(R"({"type":"latency","stream":"downstream","attributes":{"latency":20,"jitter":15}})");
  Socket s = connect();
  const std::string payload = random_bytes(4 * 1024 * 1024, 11);
  std::thread writer([&] { s.send(payload); });
  ReadResult r = recv_exact(s.fd(), payload.size(), std::chrono::seconds(30));
  writer.join();
  EXPECT_EQ(r.data.size(), payload.size());
  EXPECT_TRUE(r.data == payload) << "bytes changed or reordered";
}

}  // namespace faultline::test
