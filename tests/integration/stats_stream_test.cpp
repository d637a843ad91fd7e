// GET /faultline/stats/stream: server-sent events with the live figures of
// /faultline/stats, over a real HTTP connection, while the API stays usable.
#include <gtest/gtest.h>

#include <regex>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(StatsStream, SendsLiveFiguresAsServerSentEvents) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("live", echo.port());
  Socket stream(connect_tcp(server.api_port()));
  stream.send("GET /faultline/stats/stream?interval_ms=100 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n");
  const ReadResult first = recv_all(stream.fd(), std::chrono::milliseconds(600));
  EXPECT_EQ(first.end, ReadEnd::Timeout) << "the stream stays open";
  EXPECT_NE(first.data.find("HTTP/1.1 200 OK"), std::string::npos) << first.data;
  EXPECT_NE(first.data.find("Content-Type: text/event-stream"), std::string::npos) << first.data;
  EXPECT_NE(first.data.find("Transfer-Encoding: chunked"), std::string::npos) << first.data;
  EXPECT_GE(count(first.data, "event: stats\ndata: {\"live\":"), 2u) << first.data;
  EXPECT_NE(first.data.find("\"bytes_upstream\":0"), std::string::npos);

  // The API answers while a stream is open, and the stream shows new traffic.
  EXPECT_EQ(server.api().get("/proxies/live").status, 200);
  Socket client(connect_tcp(port));
  client.send("twelve bytes");
  EXPECT_EQ(recv_exact(client.fd(), 12).data, "twelve bytes");
  const ReadResult later = recv_all(stream.fd(), std::chrono::milliseconds(600));
  EXPECT_NE(later.data.find("\"bytes_upstream\":12"), std::string::npos) << later.data;
  EXPECT_NE(later.data.find("\"bytes_downstream\":12"), std::string::npos) << later.data;
}

TEST(StatsStream, RefusesAnIntervalOutOfRange) {
  ServerProcess server;
  const auto r = server.api().get("/faultline/stats/stream?interval_ms=5");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("interval_ms"), std::string::npos);
}

TEST(StatsStream, AClientThatGoesAwayLeavesTheServerWell) {
  ServerProcess server;
  for (int i = 0; i < 20; ++i) {
    Socket s(connect_tcp(server.api_port()));
    s.send("GET /faultline/stats/stream?interval_ms=50 HTTP/1.1\r\nHost: x\r\n\r\n");
    recv_exact(s.fd(), 20, std::chrono::milliseconds(1000));
  }
  EXPECT_EQ(server.api().get("/version").status, 200);
}

}  // namespace
}  // namespace faultline::test
