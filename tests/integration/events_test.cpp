// GET /faultline/events: every control change as a server-sent event (or a
// JSON array with ?poll=1), in order, resumable, and never held up by a
// reader that stopped reading.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using nlohmann::json;

json poll(const ServerProcess& server, const std::string& query = "") {
  const auto r = server.api().get("/faultline/events?poll=1" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body);
}

std::vector<std::string> types_of(const json& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.at("type"));
  return out;
}

TEST(Events, EveryChangeIsReportedInOrderWithIdsAndMicrosecondTimes) {
  TestUpstream echo;
  ServerProcess server;
  const auto before_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  server.create_proxy("db", echo.port());
  ASSERT_EQ(server.api().post("/proxies/db/toxics", R"({"name":"lag","type":"latency","attributes":{"latency":20}})").status, 200);
  ASSERT_EQ(server.api().post("/proxies/db/toxics/lag", R"({"attributes":{"latency":40}})").status, 200);
  ASSERT_EQ(server.api().post("/proxies/db", R"({"enabled":false})").status, 200);
  ASSERT_EQ(server.api().post("/proxies/db", R"({"enabled":true})").status, 200);
  ASSERT_EQ(server.api().del("/proxies/db/toxics/lag").status, 204);
  ASSERT_EQ(server.api().post("/reset").status, 204);
  ASSERT_EQ(server.api().del("/proxies/db").status, 204);

  const json events = poll(server);
  EXPECT_EQ(types_of(events), (std::vector<std::string>{"proxy_created", "toxic_added", "toxic_updated", "proxy_disabled",
                                                         "proxy_enabled", "toxic_removed", "reset", "proxy_deleted"}));
  int64_t previous_us = before_us;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].at("id").get<uint64_t>(), i + 1);
    EXPECT_GE(events[i].at("time_us").get<int64_t>(), previous_us);
    previous_us = events[i].at("time_us");
    if (events[i].at("type") != "reset") {
      EXPECT_EQ(events[i].at("proxy"), "db");
    }
  }
  EXPECT_EQ(events[1].at("toxic"), "lag");
  EXPECT_EQ(events[1].at("toxic_type"), "latency");
  EXPECT_EQ(events[1].at("detail").at("attributes").at("latency"), 20);
  EXPECT_EQ(events[2].at("detail").at("attributes").at("latency"), 40);
  // Toxiproxy's own endpoints are unchanged by all this.
  EXPECT_EQ(server.api().get("/proxies").body, "{}");
}

TEST(Events, PollResumesAfterAnIdAndRefusesBadParameters) {
  TestUpstream echo;
  ServerProcess server;
  server.create_proxy("a", echo.port());
  server.create_proxy("b", echo.port());
  server.create_proxy("c", echo.port());
  const json after_one = poll(server, "&since=1");
  ASSERT_EQ(after_one.size(), 2u);
  EXPECT_EQ(after_one[0].at("proxy"), "b");
  EXPECT_EQ(poll(server, "&since=3").size(), 0u);
  EXPECT_EQ(poll(server, "&since=1&limit=1").size(), 1u);
  for (const std::string bad : {"since=-1", "since=x", "limit=y", "poll=maybe"}) {
    const auto r = server.api().get("/faultline/events?" + (bad.rfind("poll", 0) == 0 ? bad : "poll=1&" + bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find(bad.substr(0, bad.find('='))), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("allowed"), std::string::npos) << r.body;
  }
}

TEST(Events, SchedulesReportTheirTransitionsBeforeTheChangesTheyMake) {
  TestUpstream echo;
  ServerProcess server;
  server.create_proxy("svc", echo.port());
  const auto r = server.api().post("/faultline/schedules",
      R"({"name":"blip","proxy":"svc","kind":"window","duration_ms":150,"toxic":{"type":"latency","attributes":{"latency":5}}})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const json events = poll(server, "&since=1");
  const auto types = types_of(events);
  ASSERT_GE(types.size(), 5u) << events.dump();
  EXPECT_EQ(types[0], "schedule_started");
  EXPECT_EQ(types[1], "schedule_transition");
  EXPECT_EQ(events[1].at("phase"), "on");
  EXPECT_EQ(types[2], "toxic_added");
  EXPECT_EQ(events[2].at("schedule"), "blip");
  EXPECT_EQ(types[3], "schedule_transition");
  EXPECT_EQ(events[3].at("phase"), "off");
  EXPECT_EQ(types[4], "toxic_removed");
  const int64_t on_us = events[2].at("time_us"), off_us = events[4].at("time_us");
  EXPECT_GE(off_us - on_us, 140'000) << "the window lasts 150 ms";
  EXPECT_LE(off_us - on_us, 400'000);
}

TEST(Events, TheStreamSendsNewEventsAndResumesWithLastEventId) {
  TestUpstream echo;
  ServerProcess server;
  Socket stream(connect_tcp(server.api_port()));
  stream.send("GET /faultline/events HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n");
  const ReadResult head = recv_all(stream.fd(), std::chrono::milliseconds(200));
  EXPECT_NE(head.data.find("Content-Type: text/event-stream"), std::string::npos) << head.data;
  server.create_proxy("one", echo.port());
  server.create_proxy("two", echo.port());
  const ReadResult body = recv_all(stream.fd(), std::chrono::milliseconds(400));
  EXPECT_NE(body.data.find("id: 1\nevent: proxy_created\ndata: {\"id\":1,"), std::string::npos) << body.data;
  EXPECT_NE(body.data.find("id: 2\nevent: proxy_created\n"), std::string::npos) << body.data;

  Socket resumed(connect_tcp(server.api_port()));
  resumed.send("GET /faultline/events HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nLast-Event-ID: 1\r\n\r\n");
  const ReadResult again = recv_all(resumed.fd(), std::chrono::milliseconds(400));
  EXPECT_EQ(again.data.find("id: 1\n"), std::string::npos) << again.data;
  EXPECT_NE(again.data.find("id: 2\nevent: proxy_created\n"), std::string::npos) << again.data;
}

TEST(Events, AStuckSubscriberNeverBlocksTheServerAndALateOneIsToldWhatItMissed) {
  TestUpstream echo;
  ServerOptions options;
  options.args = {"-event-buffer", "64"};
  ServerProcess server(options);
  // A subscriber with a tiny receive buffer that never reads.
  Socket stuck(connect_tcp(server.api_port()));
  int small = 1024;
  ::setsockopt(stuck.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  stuck.send("GET /faultline/events?since=0 HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n");
  server.create_proxy("p", echo.port());
  // Long names make each event about 2 KB: 3 MB in all, more than the
  // socket buffers hold, so the stuck reader's writer really stalls.
  // (Added and removed again, so the proxy stays small.)
  const std::string padding(900, 'x');
  for (int i = 0; i < 750; ++i) {
    const std::string name = padding + std::to_string(i);
    const auto r = server.api().post("/proxies/p/toxics", "{\"name\":\"" + name + "\",\"type\":\"latency\"}");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(server.api().del("/proxies/p/toxics/" + name).status, 204);
  }
  const json events = poll(server, "&since=0");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].at("type"), "dropped");
  EXPECT_EQ(events[0].at("dropped").get<uint64_t>() + events.size() - 1, 1501u) << "missed + kept = all";
  EXPECT_EQ(events.back().at("type"), "toxic_removed");
  EXPECT_EQ(events.back().at("toxic"), padding + "749");
  // A subscriber that reads gets the newest events at once.
  Socket reader(connect_tcp(server.api_port()));
  reader.send("GET /faultline/events HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n");
  recv_all(reader.fd(), std::chrono::milliseconds(100));
  ASSERT_EQ(server.api().del("/proxies/p").status, 204);
  EXPECT_NE(recv_all(reader.fd(), std::chrono::milliseconds(300)).data.find("event: proxy_deleted"), std::string::npos);
}

TEST(Events, ToxiproxyRoutesAreUntouched) {
  ServerProcess server;
  EXPECT_EQ(server.api().post("/faultline/events").status, 405);
  EXPECT_EQ(server.api().get("/events").status, 404);
}

}  // namespace
}  // namespace faultline::test
