#include "ToxicTestSupport.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>
#include <vector>

namespace faultline::test {

namespace {
const std::string k150KB = random_bytes(150'000, 3);
}

class BandwidthDownstream : public ToxicTest {
 protected:
  BandwidthDownstream() : ToxicTest(TestUpstream::send_then_close(k150KB)) {}
};

TEST_F(BandwidthDownstream, PacesTheReplyToTheRate) {
  add_toxic(R"({"type":"bandwidth","attributes":{"rate":100}})");  // 100 KB/s = 100,000 B/s
  const auto start = Clock::now();
  Socket s = connect();
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(10));
  const double ms = ms_since(start);
  EXPECT_EQ(r.end, ReadEnd::Eof);
  EXPECT_TRUE(r.data == k150KB) << "data must arrive unchanged";
  // 150,000 bytes at 100,000 B/s: about 1.4-1.5 s (the first piece leaves at once).
  EXPECT_GE(ms, 1300);
  EXPECT_LT(ms, 2500);
}

TEST_F(BandwidthDownstream, RateZeroHoldsDataUntilTheToxicIsRemoved) {
  add_toxic(R"({"type":"bandwidth","attributes":{"rate":0}})");
  Socket s = connect();
  ReadResult held = recv_exact(s.fd(), 1, std::chrono::milliseconds(500));
  EXPECT_EQ(held.end, ReadEnd::Timeout);
  EXPECT_TRUE(held.data.empty());
  // The API stays responsive while the direction is held.
  EXPECT_EQ(server_->api().get("/proxies/p").status, 200);
  remove_toxic("bandwidth_downstream");
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(5));
  EXPECT_TRUE(r.data == k150KB);
  EXPECT_EQ(r.end, ReadEnd::Eof);
}

TEST_F(BandwidthDownstream, RaisingTheRateMidStreamSpeedsItUp) {
  add_toxic(R"({"type":"bandwidth","attributes":{"rate":10}})");  // would take 15 s
  Socket s = connect();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = Clock::now();
  update_toxic("bandwidth_downstream", R"({"attributes":{"rate":100000}})");
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(10));
  EXPECT_TRUE(r.data == k150KB);
  EXPECT_LT(ms_since(start), 2000);
}

// scope "proxy": four downloads share one rate, and finish together.
TEST_F(BandwidthDownstream, ProxyScopeSharesTheRateFairlyBetweenConnections) {
  add_toxic(R"({"type":"bandwidth","attributes":{"rate":200,"scope":"proxy"}})");  // 200,000 B/s for the whole proxy
  constexpr int kClients = 4;
  std::vector<double> finished_ms(kClients);
  std::vector<int> intact(kClients);  // not vector<bool>: each thread writes its own element
  const auto start = Clock::now();
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i)
    readers.emplace_back([&, i] {
      Socket s = connect();
      ReadResult r = recv_all(s.fd(), std::chrono::seconds(20));
      finished_ms[i] = ms_since(start);
      intact[i] = r.end == ReadEnd::Eof && r.data == k150KB;
    });
  for (auto& t : readers) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_TRUE(intact[i]) << "client " << i;
  const auto [first, last] = std::minmax_element(finished_ms.begin(), finished_ms.end());
  // 600,000 bytes at 200,000 B/s: 3 s for all of them (each alone would take 0.75 s).
  EXPECT_GE(*first, 2500) << "the rate is the proxy's, not each connection's";
  EXPECT_LT(*last, 6000);
  EXPECT_LT(*last - *first, 900) << "fair: no connection finishes long before the others";
  // The JSON shows what was set, and only that.
  const auto toxic = nlohmann::json::parse(server_->api().get("/proxies/p/toxics/bandwidth_downstream").body);
  EXPECT_EQ(toxic["attributes"]["scope"], "proxy");
  EXPECT_FALSE(toxic["attributes"].contains("burst"));
}

class BandwidthUpstream : public ToxicTest {
 protected:
  BandwidthUpstream() : ToxicTest(TestUpstream::sink_handler()) {}
};

TEST_F(BandwidthUpstream, PacesWhatTheClientSends) {
  add_toxic(R"({"type":"bandwidth","stream":"upstream","attributes":{"rate":50}})");
  Socket s = connect();
  const std::string payload = random_bytes(100'000, 5);
  const auto start = Clock::now();
  s.send(payload);  // fits in socket buffers: returns quickly
  shutdown_write(s.fd());
  // The sink half-closes once it has read everything: EOF marks delivery.
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(10)), ReadEnd::Eof);
  const double ms = ms_since(start);
  EXPECT_GE(ms, 1800);  // 100,000 B at 50,000 B/s: ~2 s less the first 100 ms piece
  EXPECT_LT(ms, 3500);
}

}  // namespace faultline::test
