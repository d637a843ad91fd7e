// Faults no TCP proxy had: drop at accept (refused, closed, blackholed,
// delayed), corrupt, blackhole. Real sockets through a real server, with
// -seed so the random ones are the same every run.
#include "ToxicTestSupport.h"

#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <cmath>
#include <thread>
#include <vector>

namespace faultline::test {

class Drop : public ToxicTest {
 protected:
  // Connects and sends; false when the connection was refused or reset at
  // any point (the RST may come before connect() returns, or before the send).
  bool echoes(const std::string& message = "ping") {
    int error = 0;
    Socket s(connect_tcp_reporting(port_, error));
    if (!s.valid()) return false;
    if (::send(s.fd(), message.data(), message.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(message.size())) return false;
    return recv_exact(s.fd(), message.size(), std::chrono::seconds(2)).data == message;
  }
};

TEST_F(Drop, RefusedIsAResetRightAfterTheAcceptAndTheUpstreamIsNeverDialled) {
  add_toxic(R"({"type":"drop","stream":"upstream"})");
  int error = 0;
  Socket s(connect_tcp_reporting(port_, error));
  if (s.valid()) {
    (void)::send(s.fd(), "hello", 5, MSG_NOSIGNAL);
    EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Reset);
  } else {
    EXPECT_TRUE(error == ECONNRESET || error == ECONNREFUSED) << "reset before connect() returned: " << error;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(upstream_->accepted(), 0);
  EXPECT_NE(server_->output().find("connection refused proxy=p connection=0 toxic=drop_upstream"), std::string::npos)
      << "a chaos event in the log";
}

TEST_F(Drop, ClosedIsAFinBeforeAnyByte) {
  add_toxic(R"({"type":"drop","attributes":{"mode":"closed"}})");
  Socket s = connect();
  const ReadResult r = recv_all(s.fd(), std::chrono::seconds(3));
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(r.end, ReadEnd::Eof);
  EXPECT_EQ(upstream_->accepted(), 0);
}

TEST_F(Drop, BlackholedIsNeverAnsweredThenClosedAfterItsTimeout) {
  add_toxic(R"({"type":"drop","attributes":{"mode":"blackholed","timeout":600}})");
  const auto start = Clock::now();
  Socket s = connect();
  s.send(std::string(100000, 'x'));  // accepted and read: the client's writes do not block
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::milliseconds(300)), ReadEnd::Timeout) << "no answer, no close";
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Eof);
  EXPECT_GE(ms_since(start), 580);
  EXPECT_LT(ms_since(start), 2000);
  EXPECT_EQ(upstream_->accepted(), 0) << "never dialled";
}

TEST_F(Drop, ABlackholedClientThatLeavesIsForgotten) {
  add_toxic(R"({"type":"drop","attributes":{"mode":"blackholed"}})");  // timeout 0: never closed by us
  for (int i = 0; i < 20; ++i) {
    Socket s = connect();
    s.send("anyone?");
  }  // each closes
  nlohmann::json stats;
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  do {
    stats = nlohmann::json::parse(server_->api().get("/faultline/stats").body)["p"];
    // Every client was accepted (the last one may still be in the backlog) and every one was forgotten.
  } while ((stats["connections"] != 0 || stats["connections_accepted"] != 20) && Clock::now() < deadline);
  EXPECT_EQ(stats["connections"], 0) << stats.dump();
  EXPECT_EQ(stats["connections_accepted"], 20);
}

TEST_F(Drop, DelayedMakesTheUpstreamConnectWait) {
  add_toxic(R"({"type":"drop","attributes":{"mode":"delayed","delay":500}})");
  const auto start = Clock::now();
  Socket s = connect();
  EXPECT_GT(round_trip_ms(s), 0) << "the connection works, late";
  EXPECT_GE(ms_since(start), 480);
  EXPECT_LT(ms_since(start), 2000);
}

TEST_F(Drop, ToxicityIsTheShareOfConnectionsDroppedAndLiveOnesAreNotTouched) {
  Socket before = connect();
  EXPECT_GT(round_trip_ms(before), 0);
  add_toxic(R"({"type":"drop","toxicity":0.3})");
  EXPECT_GT(round_trip_ms(before), 0) << "an open connection is not dropped";
  int refused = 0;
  const int n = 200;
  for (int i = 0; i < n; ++i) refused += echoes() ? 0 : 1;
  EXPECT_GT(refused, n * 0.3 - 30);
  EXPECT_LT(refused, n * 0.3 + 30);
}

using Corrupt = ToxicTest;

TEST_F(Corrupt, FlipsBitsAtTheRateKeepingLengthAndIsTheSameWithTheSameSeed) {
  add_toxic(R"({"type":"corrupt","stream":"upstream","attributes":{"rate":0.01}})");
  const std::string sent = random_bytes(200000, 3);
  auto corrupted_bytes = [&](std::string& echoed) {
    Socket s = connect();
    s.send(sent);
    echoed = recv_exact(s.fd(), sent.size(), std::chrono::seconds(10)).data;
    int differ = 0;
    for (size_t i = 0; i < std::min(echoed.size(), sent.size()); ++i) {
      const unsigned char x = static_cast<unsigned char>(echoed[i] ^ sent[i]);
      if (x) {
        ++differ;
        EXPECT_EQ(x & (x - 1), 0) << "one bit flipped per corrupted byte";
      }
    }
    return differ;
  };
  std::string first;
  const int differ = corrupted_bytes(first);
  ASSERT_EQ(first.size(), sent.size()) << "no byte lost or added";
  EXPECT_GT(differ, 1600);  // 2000 expected
  EXPECT_LT(differ, 2400);
  // The next connection has its own draws; a restarted server with the same
  // seed replays the first connection's.
  server_ = std::make_unique<ServerProcess>(ServerOptions{{"-seed", "7"}});
  port_ = server_->create_proxy("p", upstream_->port());
  add_toxic(R"({"type":"corrupt","stream":"upstream","attributes":{"rate":0.01}})");
  std::string again;
  corrupted_bytes(again);
  EXPECT_EQ(again, first) << "-seed replays the corruption";
}

TEST_F(Corrupt, PerChunkChangesOneByteOfAChosenChunkAndLogsTheOffsets) {
  add_toxic(R"({"type":"corrupt","attributes":{"rate":1,"per_chunk":1}})");
  Socket s = connect();
  for (int i = 0; i < 5; ++i) {
    const std::string m = "message number " + std::to_string(i);
    s.send(m);
    const std::string echoed = recv_exact(s.fd(), m.size(), std::chrono::seconds(3)).data;
    ASSERT_EQ(echoed.size(), m.size());
    int differ = 0;
    for (size_t k = 0; k < m.size(); ++k) differ += echoed[k] != m[k];
    EXPECT_EQ(differ, 1) << "one byte of each chunk";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NE(server_->output().find("data corrupted"), std::string::npos);
  EXPECT_NE(server_->output().find("1 byte(s) from offset"), std::string::npos) << server_->output().substr(0, 2000);
}

// Toxicity picks the connections; a live update reaches open ones.
TEST_F(Corrupt, ToxicityPicksConnectionsAndALiveChangeReachesOpenOnes) {
  add_toxic(R"({"type":"corrupt","toxicity":0.5,"attributes":{"rate":0.05}})");
  const std::string sent = random_bytes(20000, 4);
  int corrupted = 0;
  std::vector<Socket> open;
  for (int i = 0; i < 30; ++i) {
    Socket s = connect();
    s.send(sent);
    if (recv_exact(s.fd(), sent.size(), std::chrono::seconds(5)).data != sent) {
      ++corrupted;
      open.push_back(std::move(s));
    }
  }
  EXPECT_GE(corrupted, 6) << "about half of 30 connections";
  EXPECT_LE(corrupted, 24);
  ASSERT_FALSE(open.empty());
  update_toxic("corrupt_downstream", R"({"attributes":{"rate":0}})");
  open.front().send(sent);
  EXPECT_TRUE(recv_exact(open.front().fd(), sent.size(), std::chrono::seconds(5)).data == sent)
      << "rate 0 on a connection that was being corrupted: intact from now on";
}

using Blackhole = ToxicTest;

TEST_F(Blackhole, OneWayLossTheOtherDirectionFlowsAndTheConnectionStaysOpen) {
  // Upstream greets, then echoes: the greeting comes down, the client's bytes vanish upstream.
  upstream_ = std::make_unique<TestUpstream>(TestUpstream::greet("hello\n"));
  port_ = 0;
  server_->api().del("/proxies/p");
  port_ = server_->create_proxy("p", upstream_->port());
  add_toxic(R"({"type":"blackhole","stream":"upstream"})");
  Socket s = connect();
  EXPECT_EQ(recv_exact(s.fd(), 6, std::chrono::seconds(3)).data, "hello\n") << "downstream flows";
  s.send("are you there?");
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::milliseconds(500)), ReadEnd::Timeout) << "no echo, no close";
  ASSERT_TRUE(upstream_->wait_accepted(1));
  // Removed: the stream has a hole, so the connection is reset rather than resumed.
  remove_toxic("blackhole_upstream");
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Reset);
  // A new connection flows both ways.
  Socket t = connect();
  EXPECT_EQ(recv_exact(t.fd(), 6, std::chrono::seconds(3)).data, "hello\n");
  EXPECT_GT(round_trip_ms(t), 0);
}

}  // namespace faultline::test

namespace faultline::test {

using LatencyShapes = ToxicTest;

TEST_F(LatencyShapes, ToxiproxysJsonIsUnchangedUntilADistributionIsSet) {
  HttpResponse r = add_toxic(R"({"name":"plain","type":"latency","attributes":{"latency":10,"jitter":2}})");
  EXPECT_EQ(nlohmann::json::parse(r.body)["attributes"], nlohmann::json::parse(R"({"latency":10,"jitter":2})"));
  r = add_toxic(R"({"name":"tail","type":"latency","attributes":{"latency":10,"jitter":2,"distribution":"pareto","correlation":0.5}})");
  EXPECT_EQ(nlohmann::json::parse(r.body)["attributes"],
            nlohmann::json::parse(R"({"latency":10,"jitter":2,"distribution":"pareto","correlation":0.5})"));
  const HttpResponse bad = server_->api().post("/proxies/p/toxics", R"({"type":"latency","attributes":{"distribution":"cauchy"}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("distribution"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("uniform, normal, pareto, paretonormal"), std::string::npos) << bad.body;
}

// Round trips through a normal distribution: centred on the latency, spread
// by the jitter (the machine adds its own noise, hence the wide bounds).
TEST_F(LatencyShapes, NormalJitterSpreadsRoundTripsAroundTheLatency) {
  add_toxic(R"({"type":"latency","attributes":{"latency":40,"jitter":10,"distribution":"normal"}})");
  Socket s = connect();
  std::vector<double> rtt;
  for (int i = 0; i < 120; ++i) rtt.push_back(round_trip_ms(s));
  double mean = 0, var = 0;
  for (double x : rtt) mean += x / rtt.size();
  for (double x : rtt) var += (x - mean) * (x - mean) / rtt.size();
  EXPECT_GT(mean, 36);
  EXPECT_LT(mean, 48);
  EXPECT_GT(std::sqrt(var), 6) << "jitter is the standard deviation, not a bound";
  EXPECT_LT(std::sqrt(var), 16);
  int beyond_one_sigma = 0;
  for (double x : rtt) beyond_one_sigma += std::fabs(x - 40) > 10.5;
  EXPECT_GT(beyond_one_sigma, 15) << "about a third lies beyond one deviation";
}

}  // namespace faultline::test

#include <arpa/inet.h>
#include <netinet/in.h>

namespace faultline::test {

// Per-client targeting: a toxic with `clients` applies only to connections
// from those source addresses (loopback has all of 127.0.0.0/8 to bind to).
class Clients : public ToxicTest {
 protected:
  Socket connect_from(const char* source) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0) << source;
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(static_cast<uint16_t>(port_));
    ::inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target), 0);
    return Socket(fd);
  }
};

TEST_F(Clients, AToxicAppliesOnlyToItsClientsAndTheJsonShowsThem) {
  const HttpResponse r = add_toxic(R"({"name":"slow","type":"latency","attributes":{"latency":300},"clients":["127.0.0.2/32"]})");
  EXPECT_EQ(nlohmann::json::parse(r.body)["clients"], nlohmann::json::parse(R"(["127.0.0.2/32"])"));
  Socket targeted = connect_from("127.0.0.2");
  Socket other = connect_from("127.0.0.3");
  EXPECT_GE(round_trip_ms(targeted), 280);
  EXPECT_LT(round_trip_ms(other), 150) << "127.0.0.3 is not in the list";
  // Live: the list changes, open connections decide again.
  update_toxic("slow", R"({"clients":["127.0.0.3","10.0.0.0/8"]})");
  EXPECT_LT(round_trip_ms(targeted), 150);
  EXPECT_GE(round_trip_ms(other), 280);
  // An empty list: everyone.
  update_toxic("slow", R"({"clients":[]})");
  EXPECT_GE(round_trip_ms(targeted), 280);
  EXPECT_EQ(nlohmann::json::parse(server_->api().get("/proxies/p/toxics/slow").body).count("clients"), 0u)
      << "no list, no key: the JSON Toxiproxy clients know";
}

TEST_F(Clients, ADropForOneClientLeavesTheOthersAlone) {
  add_toxic(R"({"type":"drop","attributes":{"mode":"closed"},"clients":["127.0.0.2"]})");
  Socket dropped = connect_from("127.0.0.2");
  EXPECT_EQ(recv_all(dropped.fd(), std::chrono::seconds(3)).end, ReadEnd::Eof);
  Socket kept = connect_from("127.0.0.3");
  EXPECT_GT(round_trip_ms(kept), 0);
}

TEST_F(Clients, BadListsAreRefusedNamingTheEntry) {
  for (const char* body : {R"({"type":"latency","clients":"127.0.0.1"})", R"({"type":"latency","clients":["127.0.0.300"]})",
                           R"({"type":"latency","clients":["10.0.0.0/33"]})", R"({"type":"latency","clients":[7]})"}) {
    const HttpResponse r = server_->api().post("/proxies/p/toxics", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find("clients"), std::string::npos) << r.body;
  }
  EXPECT_EQ(nlohmann::json::parse(server_->api().get("/proxies/p/toxics").body).size(), 0u) << "nothing half-applied";
}

}  // namespace faultline::test

namespace faultline::test {

using PacketLoss = ToxicTest;

// tcp mode: losses are stalls, never holes. 50 MB round trip with 1 % loss
// upstream: every byte back, in order.
TEST_F(PacketLoss, TcpModeDeliversEveryByteInOrder) {
  add_toxic(R"({"type":"packet_loss","stream":"upstream","attributes":{"loss_rate":0.01,"rto_ms":2,"correlation":0.3}})");
  Socket s = connect();
  const std::string sent = random_bytes(50 * 1024 * 1024, 11);
  std::thread writer([&] { s.send(sent); });
  const ReadResult back = recv_exact(s.fd(), sent.size(), std::chrono::seconds(120));
  writer.join();
  ASSERT_EQ(back.data.size(), sent.size());
  EXPECT_TRUE(back.data == sent) << "no byte lost, duplicated or reordered";
}

TEST_F(PacketLoss, ALostSegmentArrivesOneTimeoutLate) {
  add_toxic(R"({"type":"packet_loss","attributes":{"loss_rate":0.1,"rto_ms":150}})");
  Socket s = connect();
  int late = 0;
  for (int i = 0; i < 150; ++i) {
    const double ms = round_trip_ms(s, "message " + std::to_string(i));
    ASSERT_GT(ms, 0) << "every message comes back whole";
    if (ms >= 140) ++late;
  }
  EXPECT_GE(late, 6) << "about 15 of 150 replies were lost once";
  EXPECT_LE(late, 30);
}

TEST_F(PacketLoss, StallsSlowABulkTransfer) {
  add_toxic(R"({"type":"packet_loss","stream":"upstream","attributes":{"loss_rate":0.01,"rto_ms":50}})");
  Socket s = connect();
  const std::string sent = random_bytes(5 * 1024 * 1024, 5);
  const auto start = Clock::now();
  std::thread writer([&] { s.send(sent); });
  const ReadResult back = recv_exact(s.fd(), sent.size(), std::chrono::seconds(60));
  writer.join();
  EXPECT_TRUE(back.data == sent);
  // About 36 of 3620 segments lost, each a 50 ms stall for what follows.
  EXPECT_GE(ms_since(start), 1000);
}

TEST_F(PacketLoss, ALiveChangeOfTheLossRateReachesAnOpenConnection) {
  // At most two timeouts (200 + 400 ms) per reply, well inside a round trip's 5 s.
  add_toxic(R"({"type":"packet_loss","attributes":{"loss_rate":0.4,"rto_ms":200,"max_rto_ms":400}})");
  Socket s = connect();
  int late = 0;
  for (int i = 0; i < 20; ++i) late += round_trip_ms(s, "before " + std::to_string(i % 10)) >= 190;
  EXPECT_GE(late, 3) << "about 8 of 20 replies lost at least once";
  update_toxic("packet_loss_downstream", R"({"attributes":{"loss_rate":0}})");
  // Whatever was held when the rate changed still comes first; after it, no stall.
  ASSERT_GT(round_trip_ms(s, "flush"), 0);
  int slow = 0;
  for (int i = 0; i < 20; ++i) slow += round_trip_ms(s, "after " + std::to_string(i)) >= 190;
  EXPECT_EQ(slow, 0);
}

TEST_F(PacketLoss, DropModeLosesTheBytesOnPurpose) {
  add_toxic(R"({"type":"packet_loss","stream":"upstream","attributes":{"mode":"drop","loss_rate":0.2,"segment_size":100}})");
  Socket s = connect();
  const std::string sent = random_bytes(100 * 1000, 9);
  s.send(sent);
  const ReadResult back = recv_all(s.fd(), std::chrono::milliseconds(800));
  EXPECT_GT(back.data.size(), sent.size() * 70 / 100);
  EXPECT_LT(back.data.size(), sent.size() * 90 / 100) << "a fifth of the segments never arrived";
}

}  // namespace faultline::test
