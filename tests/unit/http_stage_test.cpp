// The HTTP toxics' stages in process, on a manual clock: exactly which bytes
// leave, and when. The two halves of one connection are two harnesses that
// share the connection's state, as the two links of a real one do.
#include <gtest/gtest.h>

#include "StageHarness.h"
#include "toxics/http/HeadEdit.h"

namespace faultline {
namespace {

using testing::StageHarness;

// Both streams of one connection with one HTTP toxic on them.
struct Connection {
  StageHarness requests{Direction::Upstream};
  StageHarness responses{Direction::Downstream};
  explicit Connection(std::string_view toxic) {
    responses.shared_with = &requests.shared;
    responses.clock.advance(Nanos(0));
    const auto config = requests.add(toxic);
    responses.add_existing(config);
  }
  // Keeps both clocks together (the two links of a connection share a loop).
  void advance(Nanos by) {
    requests.advance(by);
    responses.advance(by);
  }
};

const std::string kGet = "GET /a HTTP/1.1\r\nHost: t\r\n\r\n";
std::string response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(HeadEdit, RemovingFieldsKeepsEverythingElseByteForByte) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Faultline-Delay: 5\r\n  folded on\r\nAccept: */*\r\n\r\n";
  const std::string out = http::remove_fields(head, [](std::string_view name) { return name == "X-Faultline-Delay"; });
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
}

TEST(HeadEdit, RewritingAResponseHeadReplacesStatusAndFields) {
  const std::string head = "HTTP/1.0 200 OK\r\nServer: x\r\nContent-Type: text/html\r\n\r\n";
  http::HeadRewrite r;
  r.status = 503;
  r.remove = {"server"};
  r.add = {{"Content-Type", "application/json"}, {"X-Chaos", "1"}};
  EXPECT_EQ(http::rewrite_response_head(head, r),
            "HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\nX-Chaos: 1\r\n\r\n");
}

TEST(HttpStages, ARequestDelayHoldsEveryByteUntilItsTime) {
  Connection c(R"({"type":"http_delay","attributes":{"delay":300}})");
  c.requests.send(kGet);
  c.advance(Millis(299));
  EXPECT_EQ(c.requests.output, "");
  c.advance(Millis(1));
  EXPECT_EQ(c.requests.output, kGet);
}

TEST(HttpStages, AResponseDelayWaitsFromTheResponseHead) {
  Connection c(R"({"type":"http_delay","attributes":{"delay":200,"at":"response"}})");
  c.requests.send(kGet);
  EXPECT_EQ(c.requests.output, kGet) << "the request goes at once";
  c.advance(Millis(50));
  c.responses.send(response("hi"));
  c.advance(Millis(199));
  EXPECT_EQ(c.responses.output, "");
  c.advance(Millis(1));
  EXPECT_EQ(c.responses.output, response("hi"));
  ASSERT_EQ(c.responses.exchanges.size(), 1u);
  EXPECT_EQ(c.responses.exchanges[0].first, 200);
  EXPECT_EQ(c.responses.exchanges[0].second, Millis(250)) << "from the request's head to the answer's end";
}

TEST(HttpStages, ASlowBodyLeavesAtItsRateAndTheHeadAtOnce) {
  Connection c(R"({"type":"http_slow_body","attributes":{"rate":1000}})");
  c.requests.send(kGet);
  const std::string body(10000, 'b');
  c.responses.send(response(body));
  const size_t head = response("").size() + 1;  // "...Content-Length: 10000" is one digit longer
  EXPECT_GE(c.responses.output.size(), head) << "the head is not paced";
  EXPECT_LE(c.responses.output.size(), head + 100);
  c.advance(Millis(5000));
  const size_t sent = c.responses.output.size() - head;
  EXPECT_GE(sent, 4900u);
  EXPECT_LE(sent, 5100u);
  c.advance(Millis(5100));
  EXPECT_EQ(c.responses.output, response(body));
}

TEST(HttpStages, RemovingADelayLetsWhatItHoldsGoOnInOrder) {
  Connection c(R"({"type":"http_delay","attributes":{"delay":60000}})");
  c.requests.send(kGet + kGet);
  c.requests.send("POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(c.requests.output, "");
  c.requests.remove_all();
  c.responses.remove_all();
  EXPECT_EQ(c.requests.output, kGet + kGet + "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(c.requests.chain.held_bytes(), 0u);
}

TEST(HttpStages, ADelayedAnswerKeepsItsPlaceBehindEarlierResponses) {
  Connection c(R"({"type":"http_header_control"})");
  c.requests.send(kGet + "GET /b HTTP/1.1\r\nx-faultline-abort: 503\r\nx-faultline-delay: 100\r\n\r\n" + kGet);
  EXPECT_EQ(c.requests.output, kGet + kGet) << "the aborted request never reaches the upstream";
  c.responses.send(response("1"));
  EXPECT_EQ(c.responses.output, response("1"));
  c.responses.send(response("3"));
  EXPECT_EQ(c.responses.output, response("1")) << "the third answer waits behind the delayed second";
  c.advance(Millis(100));
  const std::string& out = c.responses.output;
  ASSERT_NE(out.find("HTTP/1.1 503"), std::string::npos) << out;
  EXPECT_LT(out.find("HTTP/1.1 503"), out.rfind(response("3"))) << out;
  ASSERT_EQ(c.requests.http_faults.size(), 1u);
  EXPECT_EQ(c.requests.http_faults[0], "error 503");
}

TEST(HttpStages, AnAnswerWaitingBehindAResponseThatIsNotHttpStillGoesOut) {
  Connection c(R"({"type":"http_error","attributes":{"path":"/api"}})");
  c.requests.send(kGet + "GET /api HTTP/1.1\r\n\r\n");
  c.responses.send("\x16\x03\x01 not http at all\r\n\r\n");
  EXPECT_NE(c.responses.output.find("HTTP/1.1 503"), std::string::npos) << c.responses.output;
  EXPECT_NE(c.responses.output.find("not http at all"), std::string::npos);
}

TEST(HttpStages, AbortMidResponseCutsAfterExactlyNBodyBytes) {
  Connection c(R"({"type":"http_abort","attributes":{"at":"mid_response","after_bytes":7}})");
  c.requests.send(kGet);
  c.responses.send(response("0123456789abcdef"));
  EXPECT_EQ(c.responses.output, "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n0123456");
  EXPECT_TRUE(c.responses.closed_after_output);
  EXPECT_TRUE(c.responses.reset);
}

}  // namespace
}  // namespace faultline
