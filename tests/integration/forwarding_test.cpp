// The data path over real loopback sockets: bytes arrive intact in both
// directions, ends of stream are carried through (half-close included, D2),
// and failures on one side reach the other side promptly.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBigPayload = 10 * 1024 * 1024;

// FNV-1a over the bytes: enough to tell a changed, lost or reordered byte.
uint64_t fnv1a(const char* data, size_t n, uint64_t h = 14695981039346656037ULL) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string digest_text(uint64_t length, uint64_t hash) { return std::to_string(length) + " " + std::to_string(hash); }
std::string digest_of(const std::string& data) { return digest_text(data.size(), fnv1a(data.data(), data.size())); }

// An upstream that reads until the client's end of stream, then answers with
// "<length> <hash>" of everything it received and closes.
TestUpstream::Handler digest_handler() {
  return [](int fd) {
    uint64_t hash = 14695981039346656037ULL;
    uint64_t length = 0;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      hash = fnv1a(buf, static_cast<size_t>(n), hash);
      length += static_cast<uint64_t>(n);
    }
    try {
      send_all(fd, digest_text(length, hash));
    } catch (...) {
    }
  };
}

// Creates a proxy with an arbitrary body; returns the JSON the API answered.
nlohmann::json create(const ServerProcess& server, const nlohmann::json& body) {
  const HttpResponse r = server.api().post("/proxies", body.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? nlohmann::json::parse(r.body) : nlohmann::json::object();
}

int port_of(const std::string& listen) { return std::stoi(listen.substr(listen.rfind(':') + 1)); }

// Sends `data` from a thread while the caller reads, so that neither side
// waits on a full socket buffer.
class Sender {
 public:
  Sender(int fd, std::string data, bool half_close)
      : thread_([fd, data = std::move(data), half_close] {
          try {
            send_all(fd, data);
          } catch (...) {
          }
          if (half_close) shutdown_write(fd);
        }) {}
  ~Sender() { thread_.join(); }

 private:
  std::thread thread_;
};

TEST(Forwarding, TenMegabytesReachTheUpstreamIntactOnSeveralConnections) {
  TestUpstream sink(digest_handler());
  ServerProcess server;
  const int port = server.create_proxy("big_up", sink.port());
  constexpr int kConnections = 4;
  std::vector<std::thread> clients;
  std::vector<std::string> answers(kConnections), expected(kConnections);
  std::vector<ReadEnd> ends(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] {
      const std::string payload = random_bytes(kBigPayload, 100 + i);
      expected[i] = digest_of(payload);
      Socket client(connect_tcp(port));
      if (!client.valid()) return;
      send_all(client.fd(), payload);
      shutdown_write(client.fd());
      ReadResult r = recv_all(client.fd(), 60s);
      answers[i] = r.data;
      ends[i] = r.end;
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(answers[i], expected[i]) << "connection " << i;
    EXPECT_EQ(ends[i], ReadEnd::Eof) << "connection " << i << ": " << to_string(ends[i]);
  }
}

TEST(Forwarding, TenMegabytesRoundTripThroughAnEchoOnSeveralConnections) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("big_echo", echo.port());
  constexpr int kConnections = 4;
  std::vector<std::thread> clients;
  std::vector<char> intact(kConnections, false);  // not vector<bool>: its bits share words, and each thread writes one
  std::vector<ReadEnd> ends(kConnections);
  std::vector<size_t> received(kConnections), first_difference(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] {
      const std::string payload = random_bytes(kBigPayload, 200 + i);
      Socket client(connect_tcp(port));
      if (!client.valid()) return;
      ReadResult r;
      {
        Sender sender(client.fd(), payload, true);
        r = recv_all(client.fd(), 60s);
      }
      intact[i] = r.data.size() == payload.size() && r.data == payload;
      size_t same = 0;
      while (same < r.data.size() && same < payload.size() && r.data[same] == payload[same]) ++same;
      received[i] = r.data.size();
      first_difference[i] = same;
      ends[i] = r.end;
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_TRUE(intact[i]) << "connection " << i << " echoed different bytes: " << received[i] << " of " << kBigPayload
                           << " came back, the first " << first_difference[i] << " right";
    EXPECT_EQ(ends[i], ReadEnd::Eof) << "connection " << i << ": " << to_string(ends[i]);
  }
}

TEST(Forwarding, UpstreamThatSpeaksFirstReachesAClientThatSaysNothing) {
  TestUpstream greeter(TestUpstream::greet("220 ready\r\n"));
  ServerProcess server;
  const int port = server.create_proxy("greeter", greeter.port());
  // Many connections, so that a greeting racing the connect completion is hit too.
  for (int i = 0; i < 30; ++i) {
    Socket client(connect_tcp(port));
    ASSERT_TRUE(client.valid());
    ReadResult greeting = recv_exact(client.fd(), 11, 5s);
    ASSERT_EQ(greeting.data, "220 ready\r\n") << "connection " << i << " ended with " << to_string(greeting.end);
    client.send("HELO x\r\n");
    ASSERT_EQ(recv_exact(client.fd(), 8).data, "HELO x\r\n");
  }
}

TEST(Forwarding, HalfCloseFromTheClientIsCarriedThrough) {
  // The upstream answers only once it has seen the end of the request (D2).
  std::atomic<bool> saw_eof{false};
  TestUpstream upstream([&](int fd) {
    std::string request;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    saw_eof = true;
    try {
      send_all(fd, "got " + std::to_string(request.size()) + " bytes: " + request);
    } catch (...) {
    }
  });
  ServerProcess server;
  const int port = server.create_proxy("half", upstream.port());
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  client.send("question");
  shutdown_write(client.fd());
  ReadResult r = recv_all(client.fd(), 5s);
  EXPECT_TRUE(saw_eof.load());
  EXPECT_EQ(r.data, "got 8 bytes: question");
  EXPECT_EQ(r.end, ReadEnd::Eof) << to_string(r.end);
}

TEST(Forwarding, HalfClosedClientStillReceivesAStreamingReply) {
  // The reply is larger than any socket buffer and is sent after the EOF.
  const std::string reply = random_bytes(2 * 1024 * 1024, 7);
  TestUpstream upstream([&](int fd) {
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
    }
    try {
      send_all(fd, reply);
    } catch (...) {
    }
  });
  ServerProcess server;
  const int port = server.create_proxy("half_big", upstream.port());
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  client.send("GET");
  shutdown_write(client.fd());
  ReadResult r = recv_all(client.fd(), 20s);
  EXPECT_EQ(r.data.size(), reply.size());
  EXPECT_TRUE(r.data == reply);
  EXPECT_EQ(r.end, ReadEnd::Eof) << to_string(r.end);
}

TEST(Forwarding, UpstreamClosingFirstDeliversEverythingThenEof) {
  TestUpstream upstream(TestUpstream::send_then_close("bye now"));
  ServerProcess server;
  const int port = server.create_proxy("closer", upstream.port());
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  ReadResult r = recv_all(client.fd(), 5s);
  EXPECT_EQ(r.data, "bye now");
  EXPECT_EQ(r.end, ReadEnd::Eof) << to_string(r.end);
  // Once the client closes too, the proxy lets go of the connection.
  client = Socket();
  EXPECT_TRUE(upstream.wait_open(0));
}

TEST(Forwarding, NothingIsLostWhenTheUpstreamClosesRightAfterAMegabyte) {
  const std::string payload = random_bytes(1024 * 1024, 11);
  TestUpstream upstream(TestUpstream::send_then_close(payload));
  ServerProcess server;
  const int port = server.create_proxy("flush", upstream.port());
  for (int i = 0; i < 5; ++i) {
    Socket client(connect_tcp(port));
    ASSERT_TRUE(client.valid());
    ReadResult r = recv_all(client.fd(), 20s);
    ASSERT_EQ(r.data.size(), payload.size()) << "connection " << i << " ended with " << to_string(r.end);
    ASSERT_TRUE(r.data == payload) << "connection " << i;
    EXPECT_EQ(r.end, ReadEnd::Eof) << to_string(r.end);
  }
}

TEST(Forwarding, UpstreamResetEndsTheClientConnection) {
  TestUpstream upstream([](int fd) {
    char buf[64];
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
    const linger abort_on_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    // The upstream closes the socket when this returns: with linger 0, a reset.
  });
  ServerProcess server;
  const int port = server.create_proxy("resetter", upstream.port());
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  client.send("x");
  const ReadEnd end = wait_for_end(client.fd(), 5s);
  EXPECT_TRUE(end == ReadEnd::Reset || end == ReadEnd::Eof) << to_string(end);
}

TEST(Forwarding, UnreachableUpstreamClosesTheClientPromptlyAndTheServerKeepsServing) {
  TestUpstream echo;
  ServerProcess server;
  const int dead_port = free_port();  // nobody listens there
  const int dead = server.create_proxy("dead", dead_port);
  const int alive = server.create_proxy("alive", echo.port());
  for (int i = 0; i < 3; ++i) {
    Socket client(connect_tcp(dead));
    ASSERT_TRUE(client.valid());
    const auto started = Clock::now();
    ReadResult r = recv_all(client.fd(), 5s);
    const auto took = Clock::now() - started;
    EXPECT_EQ(r.data, "");
    EXPECT_NE(r.end, ReadEnd::Timeout);
    EXPECT_LT(took, 2s);
  }
  Socket ok(connect_tcp(alive));
  ASSERT_TRUE(ok.valid());
  ok.send("still here");
  EXPECT_EQ(recv_exact(ok.fd(), 10).data, "still here");
  EXPECT_EQ(server.api().get("/version").status, 200);
}

TEST(Forwarding, UpstreamGivenAsAHostNameWorks) {
  TestUpstream echo;
  ServerProcess server;
  const auto proxy = create(server, {{"name", "by_name"}, {"listen", "127.0.0.1:0"},
                                     {"upstream", "localhost:" + std::to_string(echo.port())}});
  ASSERT_TRUE(proxy.contains("listen"));
  EXPECT_EQ(proxy["upstream"], "localhost:" + std::to_string(echo.port()));
  Socket client(connect_tcp(port_of(proxy["listen"])));
  ASSERT_TRUE(client.valid());
  client.send("resolved");
  EXPECT_EQ(recv_exact(client.fd(), 8).data, "resolved");
}

TEST(Forwarding, ListensOnIpv6Loopback) {
  {
    const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool has_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (probe >= 0) ::close(probe);
    if (!has_v6) GTEST_SKIP() << "no IPv6 loopback on this machine";
  }
  TestUpstream echo;
  ServerProcess server;
  const auto proxy = create(server, {{"name", "v6"}, {"listen", "[::1]:0"},
                                     {"upstream", "127.0.0.1:" + std::to_string(echo.port())}});
  ASSERT_TRUE(proxy.contains("listen"));
  const std::string listen = proxy["listen"];
  EXPECT_EQ(listen.rfind("[::1]:", 0), 0u) << listen;
  Socket client(connect_tcp(port_of(listen), "::1"));
  ASSERT_TRUE(client.valid());
  client.send("over six");
  EXPECT_EQ(recv_exact(client.fd(), 8).data, "over six");
}

TEST(Forwarding, TwoHundredConcurrentConnectionsEachEchoTheirOwnBytes) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("many", echo.port());
  constexpr int kConnections = 200;
  std::vector<Socket> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back(connect_tcp(port));
    ASSERT_TRUE(clients.back().valid()) << "connection " << i;
  }
  // All open at once: every one is served by its own upstream connection.
  ASSERT_TRUE(echo.wait_accepted(kConnections, 20000)) << echo.accepted();
  auto message = [](int i) { return "connection " + std::to_string(i) + " " + random_bytes(1000, 1000 + i); };
  for (int i = 0; i < kConnections; ++i) clients[i].send(message(i));
  for (int i = 0; i < kConnections; ++i) {
    const std::string expected = message(i);
    ReadResult r = recv_exact(clients[i].fd(), expected.size(), 10s);
    ASSERT_TRUE(r.data == expected) << "connection " << i << " got " << r.data.size() << " bytes, "
                                    << to_string(r.end);
  }
  for (auto& c : clients) shutdown_write(c.fd());
  for (int i = 0; i < kConnections; ++i) EXPECT_EQ(wait_for_end(clients[i].fd(), 10s), ReadEnd::Eof) << i;
  clients.clear();
  EXPECT_TRUE(echo.wait_open(0, 10000)) << echo.open_connections();
}

}  // namespace
}  // namespace faultline::test
