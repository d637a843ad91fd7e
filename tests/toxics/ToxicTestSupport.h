#pragma once
// Shared pieces of the toxic tests: a server, an upstream, a proxy between
// them, and small timing helpers. Tolerances in these tests are wide enough
// for a loaded 2-core machine and narrow enough to fail when a toxic does
// nothing (or does the wrong thing).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class ToxicTest : public ::testing::Test {
 protected:
  explicit ToxicTest(TestUpstream::Handler handler = TestUpstream::echo_handler(),
                     std::vector<std::string> server_args = {"-seed", "7"})
      : upstream_(std::make_unique<TestUpstream>(std::move(handler))),
        server_(std::make_unique<ServerProcess>(ServerOptions{std::move(server_args)})) {
    port_ = server_->create_proxy("p", upstream_->port());
  }

  HttpResponse add_toxic(const std::string& json, const std::string& proxy = "p") {
    HttpResponse r = server_->api().post("/proxies/" + proxy + "/toxics", json);
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  }
  void update_toxic(const std::string& name, const std::string& json) {
    HttpResponse r = server_->api().patch("/proxies/p/toxics/" + name, json);
    EXPECT_EQ(r.status, 200) << r.body;
  }
  void remove_toxic(const std::string& name) {
    HttpResponse r = server_->api().del("/proxies/p/toxics/" + name);
    EXPECT_EQ(r.status, 204) << r.body;
  }
  Socket connect() {
    Socket s(connect_tcp(port_));
    EXPECT_TRUE(s.valid());
    return s;
  }
  // Sends `message` and waits for the echo; returns the round trip in ms (-1 on failure).
  double round_trip_ms(const Socket& s, const std::string& message = "ping",
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto start = Clock::now();
    s.send(message);
    ReadResult r = recv_exact(s.fd(), message.size(), timeout);
    if (r.data != message) return -1;
    return ms_since(start);
  }

  std::unique_ptr<TestUpstream> upstream_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
};

}  // namespace faultline::test
