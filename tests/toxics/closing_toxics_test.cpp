// Toxics that end connections: slow_close, timeout, reset_peer, limit_data.
#include "ToxicTestSupport.h"

#include <sys/socket.h>

#include <mutex>
#include <thread>
#include <vector>

namespace faultline::test {

namespace {
const std::string kReply = "reply from upstream";
}

class SlowClose : public ToxicTest {
 protected:
  SlowClose() : ToxicTest(TestUpstream::send_then_close(kReply)) {}
};

TEST_F(SlowClose, DataArrivesAtOnceButTheCloseIsDelayed) {
  add_toxic(R"({"type":"slow_close","attributes":{"delay":600}})");
  const auto start = Clock::now();
  Socket s = connect();
  ReadResult data = recv_exact(s.fd(), kReply.size(), std::chrono::seconds(3));
  EXPECT_EQ(data.data, kReply);
  EXPECT_LT(ms_since(start), 400) << "data is not delayed";
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(5)), ReadEnd::Eof);
  EXPECT_GE(ms_since(start), 580) << "EOF comes after the delay";
  EXPECT_LT(ms_since(start), 1500);
}

TEST_F(SlowClose, ZeroDelayClosesNormally) {
  add_toxic(R"({"type":"slow_close","attributes":{"delay":0}})");
  const auto start = Clock::now();
  Socket s = connect();
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(3));
  EXPECT_EQ(r.data, kReply);
  EXPECT_EQ(r.end, ReadEnd::Eof);
  EXPECT_LT(ms_since(start), 400);
}

using Timeout = ToxicTest;

TEST_F(Timeout, ClosesTheConnectionAfterTheTimeoutWhateverTheTraffic) {
  Socket s = connect();
  EXPECT_GT(round_trip_ms(s), 0);
  const auto start = Clock::now();
  add_toxic(R"({"type":"timeout","attributes":{"timeout":400}})");
  // Keep talking: with D4 the timer does not restart on traffic.
  for (int i = 0; i < 3; ++i) {
    s.send("still here?");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(3));
  EXPECT_TRUE(r.data.empty()) << "replies are swallowed";
  EXPECT_EQ(r.end, ReadEnd::Eof);
  EXPECT_GE(ms_since(start), 380);
  EXPECT_LT(ms_since(start), 1200);
}

TEST_F(Timeout, ZeroSwallowsDataAndKeepsTheConnectionUntilRemoved) {
  add_toxic(R"({"type":"timeout","stream":"upstream","attributes":{"timeout":0}})");
  Socket s = connect();
  s.send("lost");
  ReadResult r = recv_exact(s.fd(), 1, std::chrono::milliseconds(600));
  EXPECT_EQ(r.end, ReadEnd::Timeout) << "the connection stays open and nothing comes back";
  const auto start = Clock::now();
  remove_toxic("timeout_upstream");
  // Its data was dropped, so the connection it touched is closed (D4).
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Eof);
  EXPECT_LT(ms_since(start), 1000);
  // New connections are clean again.
  Socket fresh = connect();
  EXPECT_GT(round_trip_ms(fresh), 0);
}

using ResetPeer = ToxicTest;

TEST_F(ResetPeer, ZeroTimeoutResetsNewConnectionsAtOnce) {
  add_toxic(R"({"type":"reset_peer","attributes":{"timeout":0}})");
  for (int i = 0; i < 5; ++i) {
    // The reset may beat the client's own view of the handshake: then connect() itself reports it.
    int err = 0;
    Socket s(connect_tcp_reporting(port_, err));
    if (!s.valid()) {
      EXPECT_EQ(err, ECONNRESET);
      continue;
    }
    EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Reset) << "the client must see ECONNRESET";
  }
}

TEST_F(ResetPeer, ResetsAnIdleConnectionOpenedBeforeTheToxicAfterTheTimeout) {
  Socket s = connect();
  EXPECT_GT(round_trip_ms(s), 0);
  const auto start = Clock::now();
  add_toxic(R"({"type":"reset_peer","stream":"upstream","attributes":{"timeout":300}})");
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Reset);
  EXPECT_GE(ms_since(start), 280);
  EXPECT_LT(ms_since(start), 1200);
}

// Regression: removing the toxic (or setting its toxicity to 0) before it
// fired used to drop what it had swallowed and carry on, so the peer got a
// stream with a hole in it and no error.
TEST_F(ResetPeer, RemovedAfterSwallowingBytesResetsInsteadOfLeavingAHole) {
  for (const bool by_toxicity : {false, true}) {
    SCOPED_TRACE(by_toxicity ? "toxicity set to 0" : "toxic removed");
    Socket s = connect();
    EXPECT_GT(round_trip_ms(s, "before"), 0);
    add_toxic(R"({"name":"rp","type":"reset_peer","stream":"upstream","attributes":{"timeout":60000}})");
    s.send("swallowed");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the bytes reach the toxic
    if (by_toxicity) update_toxic("rp", R"({"toxicity":0})");
    remove_toxic("rp");
    ReadResult r = recv_all(s.fd(), std::chrono::seconds(3));
    EXPECT_EQ(r.end, ReadEnd::Reset) << "the connection must end with an error, not carry on";
    EXPECT_EQ(r.data, "") << "nothing may arrive after the hole";
  }
}

TEST_F(ResetPeer, RemovedBeforeSwallowingAnythingLeavesTheConnectionAlone) {
  Socket s = connect();
  add_toxic(R"({"name":"rp","type":"reset_peer","stream":"upstream","attributes":{"timeout":60000}})");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  remove_toxic("rp");
  EXPECT_GT(round_trip_ms(s, "still fine"), 0);
}

TEST_F(ResetPeer, ToxicityZeroNeverTouchesTheConnection) {
  add_toxic(R"({"type":"reset_peer","toxicity":0,"attributes":{"timeout":0}})");
  Socket s = connect();
  EXPECT_GT(round_trip_ms(s), 0);
  shutdown_write(s.fd());
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Eof) << "an ordinary close stays a FIN";
}

class LimitDataDownstream : public ToxicTest {
 protected:
  LimitDataDownstream() : ToxicTest(TestUpstream::send_then_close(random_bytes(1000, 9))) {}
};

TEST_F(LimitDataDownstream, PassesExactlyTheLimitThenCloses) {
  add_toxic(R"({"type":"limit_data","attributes":{"bytes":100}})");
  Socket s = connect();
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(3));
  EXPECT_EQ(r.data, random_bytes(1000, 9).substr(0, 100));
  EXPECT_EQ(r.end, ReadEnd::Eof);
}

TEST_F(LimitDataDownstream, ZeroClosesOnTheFirstChunkWithoutDeliveringIt) {
  add_toxic(R"({"type":"limit_data","attributes":{"bytes":0}})");
  Socket s = connect();
  ReadResult r = recv_all(s.fd(), std::chrono::seconds(3));
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(r.end, ReadEnd::Eof);
}

// An echo upstream that also records everything it received, per connection.
struct Recorder {
  std::mutex mutex;
  std::vector<std::string> received;
  TestUpstream::Handler handler() {
    return [this](int fd) {
      size_t index;
      {
        std::lock_guard lock(mutex);
        index = received.size();
        received.emplace_back();
      }
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
        {
          std::lock_guard lock(mutex);
          received[index].append(buf, static_cast<size_t>(n));
        }
        try {
          send_all(fd, std::string(buf, static_cast<size_t>(n)));
        } catch (...) {
          return;
        }
      }
    };
  }
  std::string of(size_t i) {
    std::lock_guard lock(mutex);
    return i < received.size() ? received[i] : "";
  }
};

TEST(LimitDataUpstream, CountsAcrossChunksPerConnectionAndLeavesIdleConnectionsAlone) {
  Recorder recorder;
  TestUpstream upstream(recorder.handler());
  ServerProcess server;
  const int port = server.create_proxy("p", upstream.port());
  server.api().post("/proxies/p/toxics", R"({"type":"limit_data","stream":"upstream","attributes":{"bytes":10}})");
  Socket idle(connect_tcp(port));
  ASSERT_TRUE(upstream.wait_accepted(1));
  Socket s(connect_tcp(port));
  ASSERT_TRUE(upstream.wait_accepted(2));
  s.send("12345");
  EXPECT_EQ(recv_exact(s.fd(), 5).data, "12345");
  s.send("67890abcdef");
  EXPECT_EQ(wait_for_end(s.fd(), std::chrono::seconds(3)), ReadEnd::Eof) << "the limit closes the connection";
  // The upstream's thread may still be reading what was sent before the close.
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (recorder.of(1) != "1234567890" && recorder.of(0) != "1234567890" && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const size_t busy = recorder.of(1) == "1234567890" ? 1 : 0;
  EXPECT_EQ(recorder.of(busy), "1234567890") << "exactly the limit reached the upstream";
  // The idle connection was never closed and has its own count.
  EXPECT_EQ(recv_exact(idle.fd(), 1, std::chrono::milliseconds(200)).end, ReadEnd::Timeout);
  idle.send("abc");
  EXPECT_EQ(recv_exact(idle.fd(), 3).data, "abc");
  EXPECT_EQ(recorder.of(1 - busy), "abc");
}

}  // namespace faultline::test
