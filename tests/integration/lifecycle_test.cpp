// What API operations do to a proxy's listener and its live connections
// (spec 7.6), seen from real clients and upstreams.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

bool eventually(const std::function<bool()>& ok, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = Clock::now() + timeout;
  while (!ok()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string upstream_of(const TestUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }
std::string listen_of(int port) { return "127.0.0.1:" + std::to_string(port); }

// Sends `text` and expects it back: the connection is alive and forwarding.
void expect_echo(const Socket& s, const std::string& text) {
  s.send(text);
  EXPECT_EQ(recv_exact(s.fd(), text.size(), 5s).data, text);
}

// True when a client's connection has been ended by the proxy (EOF or reset).
bool ended(const Socket& s, std::chrono::milliseconds timeout = 5000ms) {
  const ReadEnd end = wait_for_end(s.fd(), timeout);
  return end == ReadEnd::Eof || end == ReadEnd::Reset;
}

// Whether a plain listening socket can take the port (as another program would).
bool can_bind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // SO_REUSEADDR as every server sets it: connections the proxy closed
  // itself may sit in TIME_WAIT on this port, which only blocks bind without it.
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

// An upstream that neither reads nor writes until it is released.
class StalledUpstream {
 public:
  StalledUpstream()
      : upstream_([this](int) {
          while (!released_) std::this_thread::sleep_for(5ms);
        }) {}
  ~StalledUpstream() { released_ = true; }
  int port() const { return upstream_.port(); }
  TestUpstream& upstream() { return upstream_; }

 private:
  std::atomic<bool> released_{false};
  TestUpstream upstream_;  // last: its threads use released_
};

TEST(Lifecycle, DisableClosesConnectionsAndRefusesNewOnesEnableAcceptsAgain) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("toggle", echo.port());
  Socket a(connect_tcp(port)), b(connect_tcp(port));
  expect_echo(a, "a");
  expect_echo(b, "b");

  HttpResponse r = server.api().patch("/proxies/toggle", R"({"enabled":false})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body)["enabled"].get<bool>());
  EXPECT_TRUE(ended(a));
  EXPECT_TRUE(ended(b));
  EXPECT_TRUE(echo.wait_open(0)) << "upstream sockets were left open";
  EXPECT_FALSE(port_accepts(port));

  r = server.api().patch("/proxies/toggle", R"({"enabled":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["listen"], listen_of(port));
  Socket c(connect_tcp(port));
  ASSERT_TRUE(c.valid());
  expect_echo(c, "back again");
}

TEST(Lifecycle, DeleteClosesConnectionsAndFreesThePortAtOnce) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("doomed", echo.port());
  Socket a(connect_tcp(port));
  expect_echo(a, "x");
  EXPECT_EQ(server.api().del("/proxies/doomed").status, 204);
  EXPECT_TRUE(can_bind(port)) << "port " << port << " still taken right after the delete";
  EXPECT_TRUE(ended(a));
  EXPECT_TRUE(echo.wait_open(0));
  EXPECT_EQ(server.api().get("/proxies/doomed").status, 404);
}

TEST(Lifecycle, ChangingTheUpstreamClosesConnectionsAndSendsNewOnesToTheNewUpstream) {
  TestUpstream first, second;
  ServerProcess server;
  const int port = server.create_proxy("switch", first.port());
  Socket a(connect_tcp(port));
  expect_echo(a, "first");
  const HttpResponse r = server.api().patch("/proxies/switch", json{{"upstream", upstream_of(second)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["listen"], listen_of(port)) << "the listen address must not move";
  EXPECT_TRUE(ended(a));
  EXPECT_TRUE(first.wait_open(0));
  Socket b(connect_tcp(port));
  ASSERT_TRUE(b.valid());
  expect_echo(b, "second");
  EXPECT_EQ(first.accepted(), 1);
  EXPECT_EQ(second.accepted(), 1);
}

TEST(Lifecycle, UpdateWithIdenticalValuesKeepsConnections) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("same", echo.port());
  Socket a(connect_tcp(port));
  expect_echo(a, "before");
  const HttpResponse r = server.api().patch(
      "/proxies/same", json{{"listen", listen_of(port)}, {"upstream", upstream_of(echo)}, {"enabled", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  expect_echo(a, "after");
  EXPECT_EQ(echo.accepted(), 1);
}

TEST(Lifecycle, MovingTheListenAddressClosesConnectionsAndServesOnTheNewPort) {
  TestUpstream echo;
  ServerProcess server;
  const int old_port = server.create_proxy("mover", echo.port());
  Socket a(connect_tcp(old_port));
  expect_echo(a, "old");
  const int new_port = free_port();
  const HttpResponse r = server.api().patch("/proxies/mover", json{{"listen", listen_of(new_port)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["listen"], listen_of(new_port));
  EXPECT_TRUE(ended(a));
  EXPECT_FALSE(port_accepts(old_port));
  Socket b(connect_tcp(new_port));
  ASSERT_TRUE(b.valid());
  expect_echo(b, "new");
}

TEST(Lifecycle, PopulateWithAnUnchangedEntryKeepsItsConnections) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("kept", echo.port());
  Socket a(connect_tcp(port));
  expect_echo(a, "one");
  // Once as stored, once as a host name resolving to the same address (D9).
  for (const std::string& listen : {listen_of(port), "localhost:" + std::to_string(port)}) {
    const json body = json::array({{{"name", "kept"}, {"listen", listen}, {"upstream", upstream_of(echo)}}});
    const HttpResponse r = server.api().post("/populate", body.dump());
    ASSERT_EQ(r.status, 201) << r.body;
    expect_echo(a, "still " + listen);
  }
  EXPECT_EQ(echo.accepted(), 1);
}

TEST(Lifecycle, PopulateWithAChangedEntryReplacesTheProxyAndItsConnections) {
  TestUpstream first, second;
  ServerProcess server;
  const int port = server.create_proxy("replaced", first.port());
  Socket a(connect_tcp(port));
  expect_echo(a, "one");
  const json body = json::array({{{"name", "replaced"}, {"listen", listen_of(port)}, {"upstream", upstream_of(second)}}});
  const HttpResponse r = server.api().post("/populate", body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(ended(a));
  Socket b(connect_tcp(port));
  expect_echo(b, "two");
  EXPECT_EQ(second.accepted(), 1);
}

TEST(Lifecycle, DeletingABusyProxyReturnsAtOnce) {
  // Upstream direction: the client keeps sending to an upstream that never reads.
  StalledUpstream stalled;
  // Downstream direction: the upstream keeps sending to a client that never reads.
  TestUpstream firehose([](int fd) {
    const std::string block(64 * 1024, 'z');
    try {
      for (;;) send_all(fd, block);
    } catch (...) {
    }
  });
  ServerProcess server;
  const int to_stalled = server.create_proxy("busy_up", stalled.port());
  const int from_firehose = server.create_proxy("busy_down", firehose.port());
  Socket writer(connect_tcp(to_stalled));
  Socket idle_reader(connect_tcp(from_firehose));
  ASSERT_TRUE(writer.valid() && idle_reader.valid());
  std::atomic<bool> send_ended{false};
  std::thread sender([&] {
    try {
      const std::string block(64 * 1024, 'w');
      for (int i = 0; i < 4096; ++i) send_all(writer.fd(), block);  // far beyond every buffer on the way
    } catch (...) {
    }
    send_ended = true;
  });
  // Let the buffers on both paths fill up.
  ASSERT_TRUE(stalled.upstream().wait_accepted(1));
  ASSERT_TRUE(firehose.wait_accepted(1));
  std::this_thread::sleep_for(300ms);

  for (const char* name : {"busy_up", "busy_down"}) {
    const auto started = Clock::now();
    const HttpResponse r = server.api().del(std::string("/proxies/") + name);
    const auto took = Clock::now() - started;
    EXPECT_EQ(r.status, 204) << name;
    EXPECT_LT(took, 1s) << name;
  }
  EXPECT_TRUE(eventually([&] { return send_ended.load(); })) << "the stalled writer was never released";
  sender.join();
  EXPECT_TRUE(ended(idle_reader, 10s));
  EXPECT_TRUE(json::parse(server.api().get("/proxies").body).empty());
}

}  // namespace
}  // namespace faultline::test
