// HTTP toxics over real sockets: a real server process, an HTTP/1.1
// upstream that says in every answer which request it answers, keep-alive
// and pipelined clients, curl. What is checked is what a client sees: the
// status, which request an answer belongs to, order, and that what the toxic
// does not touch arrives byte for byte.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "HttpPeers.h"
#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using namespace std::chrono_literals;

class HttpFaults : public ::testing::Test {
 protected:
  HttpFaults() : upstream_(http_upstream()), server_(ServerOptions{{"-seed", "7"}}) {
    port_ = server_.create_proxy("web", upstream_.port());
  }
  void add(const std::string& toxic) {
    const auto r = server_.api().post("/proxies/web/toxics", toxic);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  TestUpstream upstream_;
  ServerProcess server_;
  int port_ = 0;
};

TEST_F(HttpFaults, AnErrorAnswersMatchingRequestsAndTheConnectionGoesOn) {
  add(R"({"name":"api_down","type":"http_error","attributes":{"path":"/api/*","status":503,"retry_after":2}})");
  Socket s(connect_tcp(port_));
  std::string buffered;
  for (int round = 0; round < 3; ++round) {
    s.send(get("/api/users"));
    const Reply faulted = read_reply(s.fd(), buffered);
    EXPECT_EQ(faulted.status, 503);
    EXPECT_NE(faulted.body.find("api_down"), std::string::npos) << faulted.body;
    s.send(get("/index.html"));
    const Reply passed = read_reply(s.fd(), buffered);
    EXPECT_EQ(passed.status, 200);
    // The upstream never saw the faulted requests: it numbers only the ones it got.
    EXPECT_EQ(passed.body, "GET /index.html #" + std::to_string(round + 1));
  }
  EXPECT_EQ(upstream_.accepted(), 1) << "one keep-alive connection all along";
}

TEST_F(HttpFaults, PipelinedRequestsGetTheirAnswersInTheOrderAsked) {
  add(R"({"type":"http_error","attributes":{"path":"/api/*","status":500}})");
  Socket s(connect_tcp(port_));
  s.send(get("/a") + get("/api/1") + get("/chunked") + get("/api/2") + get("/c"));
  std::string buffered;
  const std::vector<std::pair<int, std::string>> expected = {
      {200, "GET /a #1"}, {500, ""}, {200, "helloGET /chunked #2"}, {500, ""}, {200, "GET /c #3"}};
  for (const auto& [status, body] : expected) {
    const Reply r = read_reply(s.fd(), buffered);
    EXPECT_EQ(r.status, status);
    if (!body.empty()) {
      EXPECT_EQ(r.body, body);
    }
  }
}

TEST_F(HttpFaults, ToxicityIsPerRequestAndEveryAnswerBelongsToItsRequest) {
  add(R"({"type":"http_error","toxicity":0.3,"attributes":{"status":503}})");
  Socket s(connect_tcp(port_));
  std::string buffered;
  int faulted = 0, forwarded = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string target = "/item/" + std::to_string(i);
    s.send(get(target));
    const Reply r = read_reply(s.fd(), buffered);
    if (r.status == 503) {
      ++faulted;
      continue;
    }
    ASSERT_EQ(r.status, 200) << "request " << i;
    ++forwarded;
    ASSERT_EQ(r.body, "GET " + target + " #" + std::to_string(forwarded)) << "the answer to request " << i;
  }
  EXPECT_GT(faulted, 240) << "30 % of 1000 requests";
  EXPECT_LT(faulted, 360);
}

TEST_F(HttpFaults, MethodAndHeaderMatchers) {
  add(R"({"type":"http_error","attributes":{"method":["post"],"request_headers":{"X-Tenant":"^acme-"},"status":429}})");
  Socket s(connect_tcp(port_));
  std::string buffered;
  const std::string body = "{}";
  auto post = [&](const std::string& tenant) {
    return "POST /orders HTTP/1.1\r\nHost: t\r\nX-Tenant: " + tenant + "\r\nContent-Length: 2\r\n\r\n" + body;
  };
  s.send(post("acme-eu"));
  EXPECT_EQ(read_reply(s.fd(), buffered).status, 429);
  s.send(post("globex"));
  EXPECT_EQ(read_reply(s.fd(), buffered).status, 200) << "another tenant";
  s.send(get("/orders", "X-Tenant: acme-eu\r\n"));
  EXPECT_EQ(read_reply(s.fd(), buffered).status, 200) << "another method";
  // The faulted POST's body was swallowed with it: the upstream's next answer is in step.
  s.send(post("globex"));
  EXPECT_EQ(read_reply(s.fd(), buffered).body, "POST /orders #3");
}

TEST_F(HttpFaults, BadMatchersAreRefusedNamingTheAttribute) {
  const auto r = server_.api().post("/proxies/web/toxics",
                                    R"({"type":"http_error","attributes":{"request_headers":{"X-A":"(unclosed"}}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("request_headers"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("(unclosed"), std::string::npos) << r.body;
  const auto s = server_.api().post("/proxies/web/toxics", R"({"type":"http_error","attributes":{"status":700}})");
  EXPECT_EQ(s.status, 400);
  EXPECT_NE(s.body.find("status"), std::string::npos) << s.body;
}

TEST_F(HttpFaults, CurlSeesTheStatusAndRetryAfter) {
  add(R"({"type":"http_error","attributes":{"path":"/?query=*","status":503,"retry_after":5}})");
  auto curl = [&](const std::string& target) {
    const std::string cmd = "curl -s -i --max-time 5 'http://127.0.0.1:" + std::to_string(port_) + target + "'";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  };
  const std::string faulted = curl("/?query=SELECT%201");
  EXPECT_EQ(faulted.rfind("HTTP/1.1 503", 0), 0u) << faulted;
  EXPECT_NE(faulted.find("Retry-After: 5"), std::string::npos) << faulted;
  const std::string passed = curl("/ping");
  EXPECT_EQ(passed.rfind("HTTP/1.1 200", 0), 0u) << passed;
}

TEST_F(HttpFaults, TrafficThatIsNotHttpPassesUntouched) {
  add(R"({"type":"http_error","attributes":{"status":503}})");
  TestUpstream echo;
  const int echo_port = server_.create_proxy("binary", echo.port());
  ASSERT_EQ(server_.api().post("/proxies/binary/toxics", R"({"type":"http_error","attributes":{"status":503}})").status, 200);
  Socket s(connect_tcp(echo_port));
  std::string binary = random_bytes(100000, 2);
  binary[0] = '\x16';  // a TLS record, say
  s.send(binary);
  EXPECT_TRUE(recv_exact(s.fd(), binary.size(), 5000ms).data == binary);
  std::this_thread::sleep_for(200ms);
  EXPECT_NE(server_.output().find("not http"), std::string::npos);
}

TEST_F(HttpFaults, AfterAnUpgradeBytesPassUntouched) {
  add(R"({"type":"http_error","attributes":{"path":"/api/*"}})");
  Socket s(connect_tcp(port_));
  s.send(get("/upgrade", "Upgrade: echo\r\nConnection: Upgrade\r\n"));
  const std::string head = recv_until(s.fd(), "\r\n\r\n", 3000ms);
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  // A request line after the switch is just bytes now: the toxic does not answer it.
  const std::string raw = get("/api/not-http-any-more");
  s.send(raw);
  EXPECT_EQ(recv_exact(s.fd(), raw.size(), 3000ms).data, raw);
}

}  // namespace
}  // namespace faultline::test
