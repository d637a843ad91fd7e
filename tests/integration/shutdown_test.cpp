// Shutdown on SIGTERM/SIGINT (D15): stop accepting at once, let live
// connections finish for the grace period, close what is left, exit 0.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using Clock = std::chrono::steady_clock;

class Shutdown : public testing::TestWithParam<int> {
 protected:
  int signal_number() const { return GetParam(); }
};

// A new client is not served once the signal has arrived: its connection is
// refused, or ends without ever reaching the upstream.
void expect_not_served(int port, const TestUpstream& upstream) {
  const int accepted_before = upstream.accepted();
  Socket late(connect_tcp(port, "127.0.0.1", 1000ms));
  if (late.valid()) {
    late.send("late");  // may fail once the server is gone; the upstream must not see it either way
    const ReadResult r = recv_all(late.fd(), 300ms);
    EXPECT_EQ(r.data, "") << "a client that connected after the signal was served";
  }
  EXPECT_EQ(upstream.accepted(), accepted_before) << "a connection made after the signal reached the upstream";
}

// The proxies' ports and the API stop accepting at once.
TEST_P(Shutdown, StopsAcceptingAtOnce) {
  TestUpstream echo;
  ServerProcess server({.args = {"-grace", "2s"}});
  const int port = server.create_proxy("draining", echo.port());
  Socket live(connect_tcp(port));
  live.send("keep me");
  ASSERT_EQ(recv_exact(live.fd(), 7).data, "keep me");

  ASSERT_EQ(::kill(server.pid(), signal_number()), 0);
  // The live connection keeps the server in its grace period meanwhile.
  const auto deadline = Clock::now() + 1000ms;
  while (port_accepts(server.api_port()) && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(port_accepts(server.api_port())) << "the API still accepts after the signal";
  EXPECT_FALSE(port_accepts(port)) << "the proxy still accepts connections after the signal";
  expect_not_served(port, echo);
  live = Socket();
  EXPECT_EQ(server.wait_exit(5000), 0);
}

TEST_P(Shutdown, LiveConnectionFinishesWithinTheGracePeriod) {
  TestUpstream echo;
  ServerProcess server({.args = {"-grace", "2s"}});
  const int port = server.create_proxy("draining", echo.port());
  Socket live(connect_tcp(port));
  live.send("before");
  ASSERT_EQ(recv_exact(live.fd(), 6).data, "before");

  const auto signalled = Clock::now();
  ASSERT_EQ(::kill(server.pid(), signal_number()), 0);
  std::this_thread::sleep_for(200ms);  // well inside the grace period
  EXPECT_TRUE(server.running());
  // Still forwarding both ways.
  live.send("during");
  EXPECT_EQ(recv_exact(live.fd(), 6, 2000ms).data, "during");
  // The client finishes (half-close, then the echo's end); the server
  // exits as soon as the last connection is gone, not at the end of the grace.
  shutdown_write(live.fd());
  EXPECT_EQ(wait_for_end(live.fd(), 2000ms), ReadEnd::Eof);
  EXPECT_EQ(server.wait_exit(5000), 0) << server.output();
  EXPECT_LT(Clock::now() - signalled, 1800ms) << "the server waited for the whole grace period";
}

TEST_P(Shutdown, ConnectionsOpenAtTheEndOfTheGracePeriodAreClosed) {
  TestUpstream echo;
  ServerProcess server({.args = {"-grace", "2s"}});
  const int port = server.create_proxy("draining", echo.port());
  Socket idle(connect_tcp(port));
  idle.send("x");
  ASSERT_EQ(recv_exact(idle.fd(), 1).data, "x");

  const auto signalled = Clock::now();
  ASSERT_EQ(::kill(server.pid(), signal_number()), 0);
  const ReadEnd end = wait_for_end(idle.fd(), 5000ms);
  const auto closed_after = Clock::now() - signalled;
  EXPECT_TRUE(end == ReadEnd::Eof || end == ReadEnd::Reset) << to_string(end);
  EXPECT_GE(closed_after, 1800ms) << "closed before the grace period was over";
  EXPECT_EQ(server.wait_exit(5000), 0) << server.output();
  EXPECT_LT(Clock::now() - signalled, 3000ms) << "exit took longer than grace + 1 s";
  EXPECT_TRUE(echo.wait_open(0)) << "the upstream side was left open";
}

TEST_P(Shutdown, WithoutConnectionsTheServerExitsAtOnce) {
  TestUpstream echo;
  ServerProcess server({.args = {"-grace", "10s"}});
  server.create_proxy("idle", echo.port());
  const auto signalled = Clock::now();
  ASSERT_EQ(::kill(server.pid(), signal_number()), 0);
  EXPECT_EQ(server.wait_exit(5000), 0) << server.output();
  EXPECT_LT(Clock::now() - signalled, 1000ms);
}

// A second signal during the grace period ends it at once.
TEST_P(Shutdown, ASecondSignalClosesEverythingNow) {
  TestUpstream echo;
  ServerProcess server({.args = {"-grace", "30s"}});
  const int port = server.create_proxy("stubborn", echo.port());
  Socket live(connect_tcp(port));
  live.send("x");
  ASSERT_EQ(recv_exact(live.fd(), 1).data, "x");
  ASSERT_EQ(::kill(server.pid(), signal_number()), 0);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(server.running()) << "the live connection holds the grace period open";
  const auto start = Clock::now();
  ASSERT_EQ(::kill(server.pid(), signal_number()), 0);
  EXPECT_EQ(wait_for_end(live.fd(), 3000ms), ReadEnd::Eof);
  EXPECT_EQ(server.wait_exit(5000), 0);
  EXPECT_LT(Clock::now() - start, 3000ms) << "the second signal did not cut the 30 s grace period short";
}

INSTANTIATE_TEST_SUITE_P(Signals, Shutdown, testing::Values(SIGTERM, SIGINT),
                         [](const testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGTERM ? "SIGTERM" : "SIGINT");
                         });

}  // namespace
}  // namespace faultline::test
