// The HTTP toxics that act in time or on the connection, over real sockets:
// delays (request and response), aborts at each point, slow bodies,
// rewrites, caller-controlled faults, several HTTP toxics at once, and what
// /metrics and the event stream say about them. What is checked is what a
// client and the upstream notice: when bytes arrive, which ones, how the
// connection ends, whether the upstream saw the request.
#include <sys/socket.h>

#include <fstream>

#include "HttpPeers.h"
#include "ToxicTestSupport.h"

namespace faultline::test {
namespace {

struct RequestCount {
  std::atomic<int> requests{0};  // every request the upstream read
};

class HttpToxics : protected RequestCount, public ToxicTest {
 protected:
  HttpToxics() : ToxicTest(http_upstream(&requests), {"-seed", "7", "-proxy-metrics"}) {}

  Reply ask(const Socket& s, const std::string& request, std::chrono::milliseconds timeout = 5000ms) {
    s.send(request);
    return read_reply(s.fd(), buffered_, timeout);
  }
  double timed_ms(const Socket& s, const std::string& request, Reply* out = nullptr) {
    const auto start = Clock::now();
    Reply r = ask(s, request);
    if (out) *out = r;
    return r.complete ? ms_since(start) : -1;
  }
  std::string metrics() { return server_->api().get("/metrics").body; }

  std::string buffered_;
};

TEST_F(HttpToxics, DelayHoldsAMatchingRequestBeforeTheUpstreamSeesIt) {
  add_toxic(R"({"name":"slow","type":"http_delay","attributes":{"path":"/slow","delay":400}})");
  Socket s = connect();
  EXPECT_LT(timed_ms(s, get("/fast")), 300) << "a request that does not match is not delayed";
  s.send(get("/slow"));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(requests.load(), 1) << "the delayed request has not reached the upstream yet";
  const Reply slow = read_reply(s.fd(), buffered_);
  EXPECT_EQ(slow.body, "GET /slow #2");
  // Pipelined behind a delayed request, a fast one waits its turn and its answer comes second.
  const auto start = Clock::now();
  s.send(get("/slow") + get("/fast"));
  const Reply first = read_reply(s.fd(), buffered_);
  const Reply second = read_reply(s.fd(), buffered_);
  EXPECT_GE(ms_since(start), 380);
  EXPECT_EQ(first.body, "GET /slow #3");
  EXPECT_EQ(second.body, "GET /fast #4");
}

TEST_F(HttpToxics, ResponseDelayLetsTheUpstreamWorkButHoldsItsAnswer) {
  add_toxic(R"({"type":"http_delay","attributes":{"delay":"500ms","at":"response"}})");
  Socket s = connect();
  const auto start = Clock::now();
  s.send(get("/report"));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(requests.load(), 1) << "the request went straight on";
  EXPECT_EQ(recv_some(s.fd(), 100ms), "") << "but nothing of the answer yet";
  const Reply r = read_reply(s.fd(), buffered_);
  EXPECT_GE(ms_since(start), 480);
  EXPECT_LT(ms_since(start), 3000);
  EXPECT_EQ(r.body, "GET /report #1");
}

TEST_F(HttpToxics, AbortBeforeTheRequestResetsAndTheUpstreamNeverSeesIt) {
  add_toxic(R"({"name":"cut","type":"http_abort","attributes":{"method":["POST"]}})");
  Socket s = connect();
  EXPECT_EQ(ask(s, get("/a")).status, 200);
  s.send("POST /orders HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(wait_for_end(s.fd(), 3000ms), ReadEnd::Reset);
  EXPECT_EQ(requests.load(), 1) << "only the GET reached the upstream";
  update_toxic("cut", R"({"attributes":{"method":["POST"],"mode":"close"}})");
  Socket t = connect();
  t.send("POST /orders HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(wait_for_end(t.fd(), 3000ms), ReadEnd::Eof) << "mode close ends with a FIN";
}

TEST_F(HttpToxics, AbortAfterTheRequestLetsTheUpstreamActButTheClientSeesNothing) {
  add_toxic(R"({"type":"http_abort","attributes":{"path":"/pay","at":"after_request"}})");
  Socket s = connect();
  s.send(get("/pay"));
  const ReadResult r = recv_all(s.fd(), 3000ms);
  EXPECT_EQ(r.data, "") << "not a byte of the response";
  EXPECT_EQ(r.end, ReadEnd::Reset);
  EXPECT_EQ(requests.load(), 1) << "the upstream got the request";
}

TEST_F(HttpToxics, AbortMidResponseDeliversTheHeadAndExactlyNBytesOfTheBody) {
  add_toxic(R"({"name":"cut","type":"http_abort","attributes":{"path":"/bytes/*","at":"mid_response","after_bytes":1000,"mode":"close"}})");
  Socket s = connect();
  s.send(get("/bytes/200000"));
  const ReadResult r = recv_all(s.fd(), 5000ms);
  EXPECT_EQ(r.end, ReadEnd::Eof);
  const size_t head_end = r.data.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << r.data.substr(0, 200);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 200 OK", 0), 0u);
  const std::string body = r.data.substr(head_end + 4);
  ASSERT_EQ(body.size(), 1000u);
  for (size_t i = 0; i < body.size(); ++i) ASSERT_EQ(body[i], byte_pattern(i)) << "at " << i;
  // A body shorter than the limit arrives whole, and the connection ends after it.
  Socket t = connect();
  t.send(get("/bytes/10"));
  const ReadResult whole = recv_all(t.fd(), 3000ms);
  EXPECT_EQ(whole.data.substr(whole.data.find("\r\n\r\n") + 4), "ahovcjqxel");
  EXPECT_EQ(whole.end, ReadEnd::Eof);
  // With mode reset the client gets the bytes, then the RST.
  update_toxic("cut", R"({"attributes":{"path":"/bytes/*","at":"mid_response","after_bytes":5000,"mode":"reset"}})");
  Socket u = connect();
  u.send(get("/bytes/200000"));
  const ReadResult reset = recv_all(u.fd(), 5000ms);
  EXPECT_EQ(reset.end, ReadEnd::Reset);
  EXPECT_EQ(reset.data.size() - reset.data.find("\r\n\r\n") - 4, 5000u);
}

TEST_F(HttpToxics, SlowBodyStreamsTheBodyAtTheRateWithTheHeadAtOnce) {
  add_toxic(R"({"type":"http_slow_body","attributes":{"path":"/bytes/*","rate":10000}})");
  Socket s = connect();
  const auto start = Clock::now();
  s.send(get("/bytes/25000"));
  const std::string head = recv_until(s.fd(), "\r\n\r\n", 3000ms);
  EXPECT_LT(ms_since(start), 1000) << "the head is not paced";
  const Reply r = read_reply(s.fd(), head.empty() ? buffered_ : (buffered_ = head), 5000ms);
  const double took = ms_since(start);
  ASSERT_TRUE(r.complete);
  ASSERT_EQ(r.body.size(), 25000u);
  for (size_t i = 0; i < r.body.size(); ++i) ASSERT_EQ(r.body[i], byte_pattern(i)) << "at " << i;
  EXPECT_GE(took, 2000) << "25 KB at 10 KB/s";
  EXPECT_LT(took, 8000);
  // Other paths on the same connection are not slowed.
  EXPECT_LT(timed_ms(s, get("/fast")), 500);
}

TEST_F(HttpToxics, RewriteChangesStatusAndFieldsAndKeepsTheBody) {
  add_toxic(R"({"type":"http_rewrite","attributes":{"path":"/wrong","status":500,
                "set_headers":{"X-Chaos":"yes","Content-Type":"application/json"},"remove_headers":["content-length"]}})");
  Socket s = connect();
  s.send(get("/wrong", "Connection: close\r\n"));
  const ReadResult r = recv_all(s.fd(), 3000ms);
  EXPECT_EQ(r.data.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << r.data;
  EXPECT_NE(r.data.find("X-Chaos: yes\r\n"), std::string::npos) << r.data;
  EXPECT_NE(r.data.find("Content-Type: application/json\r\n"), std::string::npos) << r.data;
  EXPECT_EQ(r.data.find("text/plain"), std::string::npos) << "replaced, not added twice: " << r.data;
  EXPECT_EQ(r.data.find("Content-Length"), std::string::npos) << r.data;
  EXPECT_EQ(r.data.substr(r.data.find("\r\n\r\n") + 4), "GET /wrong #1");
  // Statuses without a body cannot be set.
  const auto bad = server_->api().post("/proxies/p/toxics", R"({"name":"other","type":"http_rewrite","attributes":{"status":204}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("status"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("204"), std::string::npos) << bad.body;
}

TEST_F(HttpToxics, HeaderControlGivesEachRequestTheFaultItAsksForAndStripsTheFields) {
  add_toxic(R"({"type":"http_header_control","attributes":{"max_delay":600}})");
  Socket s = connect();
  const Reply aborted = ask(s, get("/x", "X-Faultline-Abort: 503\r\n"));
  EXPECT_EQ(aborted.status, 503);
  EXPECT_EQ(requests.load(), 0) << "an aborted request does not reach the upstream";
  Reply delayed;
  const double took = timed_ms(s, get("/y", "x-faultline-delay: 300\r\n"), &delayed);
  EXPECT_GE(took, 280);
  EXPECT_EQ(delayed.body, "GET /y #1");
  const Reply echoed = ask(s, get("/echo-head", "X-Faultline-Delay: 1\r\nX-Other: keep\r\nx-faultline-anything: 1\r\n"));
  EXPECT_EQ(echoed.body.find("aultline"), std::string::npos) << "control fields never reach the upstream: " << echoed.body;
  EXPECT_NE(echoed.body.find("X-Other: keep\r\n"), std::string::npos) << echoed.body;
  EXPECT_EQ(echoed.body.rfind("GET /echo-head HTTP/1.1\r\nHost: test\r\n", 0), 0u) << echoed.body;
  // A delay above max_delay is cut to it; an abort by reset ends the connection.
  const double capped = timed_ms(s, get("/z", "x-faultline-delay: 999999\r\n"));
  EXPECT_GE(capped, 580);
  EXPECT_LT(capped, 4000);
  s.send(get("/r", "x-faultline-abort: reset\r\n"));
  EXPECT_EQ(wait_for_end(s.fd(), 3000ms), ReadEnd::Reset);
}

TEST_F(HttpToxics, SeveralHttpToxicsNestAndPipelinedAnswersStayInOrder) {
  // Added in both orders: the error answers, the delay holds every response.
  for (bool error_first : {true, false}) {
    SCOPED_TRACE(error_first ? "error added first" : "delay added first");
    const std::string error = R"({"name":"e","type":"http_error","attributes":{"path":"/api/*","status":503}})";
    const std::string delay = R"({"name":"d","type":"http_delay","attributes":{"delay":150,"at":"response"}})";
    add_toxic(error_first ? error : delay);
    add_toxic(error_first ? delay : error);
    Socket s = connect();
    buffered_.clear();
    const int before = requests.load();
    s.send(get("/a") + get("/api/1") + get("/b") + get("/api/2") + get("/c"));
    const std::vector<std::pair<int, std::string>> expected = {{200, "GET /a #1"}, {503, ""}, {200, "GET /b #2"}, {503, ""}, {200, "GET /c #3"}};
    for (const auto& [status, body] : expected) {
      const Reply r = read_reply(s.fd(), buffered_, 5000ms);
      EXPECT_EQ(r.status, status);
      if (!body.empty()) {
        EXPECT_EQ(r.body, body);
      }
    }
    EXPECT_EQ(requests.load() - before, 3);
    remove_toxic("e");
    remove_toxic("d");
  }
}

TEST_F(HttpToxics, MetricsAndTheEventStreamShowEachFaultedRequest) {
  add_toxic(R"({"name":"api_down","type":"http_error","attributes":{"path":"/api/*","status":503}})");
  Socket s = connect();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ask(s, get("/api/" + std::to_string(i))).status, 503);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ask(s, get("/ok")).status, 200);
  const std::string m = metrics();
  EXPECT_NE(m.find(R"(faultline_http_faults_total{fault="error",proxy="p",status="503",toxic="api_down"} 3)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(faultline_http_requests_total{proxy="p",status="200"} 5)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(faultline_http_requests_total{proxy="p",status="503"} 3)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(faultline_http_request_duration_seconds_bucket{proxy="p",status="200",le="+Inf"} 5)"), std::string::npos) << m;
  const std::string events = server_->api().get("/faultline/events?poll=1").body;
  const auto list = nlohmann::json::parse(events);
  int faults = 0;
  for (const auto& e : list) {
    if (e.value("type", "") != "http_fault") continue;
    ++faults;
    EXPECT_EQ(e.value("proxy", ""), "p");
    EXPECT_EQ(e.value("toxic", ""), "api_down");
    EXPECT_EQ(e.value("method", ""), "GET");
    EXPECT_EQ(e.value("path", "").rfind("/api/", 0), 0u) << e.dump();
    EXPECT_EQ(e.value("fault", ""), "error");
    EXPECT_EQ(e.value("status", ""), "503");
  }
  EXPECT_EQ(faults, 3) << events;
}

double rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Reads a /bytes/N answer, checking every body byte as it comes, never holding it.
bool read_pattern_body(int fd, uint64_t n) {
  std::string head = recv_until(fd, "\r\n\r\n", 3000ms);
  const size_t end = head.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  uint64_t at = 0;
  auto check = [&](std::string_view bytes) {
    for (char c : bytes)
      if (c != byte_pattern(at++)) return false;
    return true;
  };
  if (!check(std::string_view(head).substr(end + 4))) return false;
  char buf[65536];
  while (at < n) {
    const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got <= 0 || !check(std::string_view(buf, static_cast<size_t>(got)))) return false;
  }
  return at == n;
}

TEST_F(HttpToxics, AHundredMegabyteBodyStreamsIntactInFlatMemory) {
  constexpr uint64_t kBody = 100ull * 1024 * 1024;
  add_toxic(R"({"name":"none","type":"http_error","attributes":{"path":"/nothing"}})");
  Socket s = connect();
  const double before = rss_mib(server_->pid());
  s.send(get("/bytes/" + std::to_string(kBody)));
  EXPECT_TRUE(read_pattern_body(s.fd(), kBody)) << "no matching fault: bytes intact";
  remove_toxic("none");
  add_toxic(R"({"type":"http_slow_body","attributes":{"rate":80000000}})");
  Socket t = connect();
  t.send(get("/bytes/" + std::to_string(kBody)));
  EXPECT_TRUE(read_pattern_body(t.fd(), kBody)) << "paced: bytes intact";
  EXPECT_LT(rss_mib(server_->pid()) - before, 48) << "bodies are streamed, never held whole";
}

}  // namespace
}  // namespace faultline::test
