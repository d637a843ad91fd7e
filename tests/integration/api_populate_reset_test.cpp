// POST /populate (spec section 6, with D9 and D10) and POST /reset (section
// 10): what they create, replace and keep, their unusual response format,
// and that a failure changes nothing.
#include <gtest/gtest.h>

#include "Upstreams.h"
#include "api_test_helpers.h"

namespace faultline::test {
namespace {

using namespace api;

std::string upstream_of(const TestUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

std::string entry(const std::string& name, const std::string& listen, const std::string& upstream,
                  const std::string& extra = "") {
  return "{\"name\":" + quoted(name) + ",\"listen\":" + quoted(listen) + ",\"upstream\":" + quoted(upstream) + extra +
         "}";
}

// A populate error: application/json, no trailing newline, and a "proxies" key.
void expect_populate_error(const HttpResponse& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{\"error\":" + quoted(message) + ",\"status\":" + std::to_string(status) + ",\"proxies\":null}");
}

void expect_populate_error_prefix(const HttpResponse& r, int status, const std::string& prefix) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  const Json j = parse_json(r.body);
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"error", "status", "proxies"}));
  EXPECT_EQ(j["error"].get<std::string>().rfind(prefix, 0), 0u) << r.body;
}

}  // namespace

// ---------------------------------------------------------------- populate

TEST(ApiPopulate, CreatesTheProxiesAndReportsThemInInputOrder) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int wanted = free_port();
  const std::string body = "[" + entry("zulu", "localhost:" + std::to_string(wanted), upstream_of(echo)) + "," +
                           entry("alpha", "127.0.0.1:0", upstream_of(echo)) + "," +
                           entry("off", "localhost:1", "127.0.0.1:1", R"(,"enabled":false)") + "]";
  const HttpResponse r = api.post("/populate", body);
  const Json j = expect_json(r, 201);
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"proxies"}));
  ASSERT_EQ(j["proxies"].size(), 3u);
  EXPECT_EQ(j["proxies"][0]["name"], "zulu");
  EXPECT_EQ(j["proxies"][0]["listen"], "127.0.0.1:" + std::to_string(wanted));
  EXPECT_EQ(j["proxies"][0]["enabled"], true);
  EXPECT_EQ(j["proxies"][1]["name"], "alpha");
  EXPECT_EQ(j["proxies"][2].dump(),
            R"({"name":"off","listen":"localhost:1","upstream":"127.0.0.1:1","enabled":false,"toxics":[]})");
  for (const auto& p : j["proxies"]) {
    EXPECT_EQ(keys_of(p), (std::vector<std::string>{"name", "listen", "upstream", "enabled", "toxics"}));
    EXPECT_EQ(p, parse_json(api.get("/proxies/" + p["name"].get<std::string>()).body));
  }
  Socket client(connect_tcp(wanted));
  ASSERT_TRUE(client.valid());
  EXPECT_TRUE(echoes(client));
  Socket other(connect_tcp(port_of(j["proxies"][1]["listen"])));
  EXPECT_TRUE(echoes(other));
}

TEST(ApiPopulate, AnEmptyListOrNullAnswersProxiesNull) {
  ServerProcess server;
  const HttpClient api = server.api();
  for (const char* body : {"[]", "null", " [ ] trailing"}) {
    const HttpResponse r = api.post("/populate", body);
    expect_json(r, 201);
    EXPECT_EQ(r.body, R"({"proxies":null})") << body;
  }
  EXPECT_EQ(api.get("/proxies").body, "{}");
}

TEST(ApiPopulate, ValidationErrorsNameTheEntryAndChangeNothing) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("existing", echo.port());
  const std::string before = api.get("/proxies").body;

  const std::string good_new = entry("new", "127.0.0.1:0", upstream_of(echo));
  const std::string replacing = entry("existing", "127.0.0.1:0", "127.0.0.1:1");
  expect_populate_error(api.post("/populate", "[" + good_new + "," + replacing + R"(,{"upstream":"127.0.0.1:1"}])"), 400,
                        "missing required field: name at proxy 3");
  expect_populate_error(api.post("/populate", "[" + good_new + R"(,{"name":"x","listen":"127.0.0.1:0"}])"), 400,
                        "missing required field: upstream at proxy 2");
  expect_populate_error(api.post("/populate", R"([{"name":"","upstream":""}])"), 400,
                        "missing required field: name at proxy 1");
  expect_populate_error(api.post("/populate", R"([null])"), 400, "missing required field: name at proxy 1");
  EXPECT_EQ(api.get("/proxies").body, before);
  Socket client(connect_tcp(port));
  EXPECT_TRUE(echoes(client));
}

TEST(ApiPopulate, BadBodiesAre400InThePopulateFormat) {
  ServerProcess server;
  const HttpClient api = server.api();
  expect_populate_error(api.post("/populate", ""), 400, "bad request body: EOF");
  expect_populate_error(api.post("/populate", "[{"), 400, "bad request body: unexpected EOF");
  expect_populate_error(api.post("/populate", R"({"name":"p","upstream":"127.0.0.1:1"})"), 400,
                        "bad request body: json: cannot unmarshal object into Go value of type []toxiproxy.Proxy");
  expect_populate_error(api.post("/populate", R"({"proxies":[]})"), 400,
                        "bad request body: json: cannot unmarshal object into Go value of type []toxiproxy.Proxy");
  expect_populate_error(api.post("/populate", "[5]"), 400,
                        "bad request body: json: cannot unmarshal number into Go value of type toxiproxy.Proxy");
  expect_populate_error(api.post("/populate", R"([{"name":"p","upstream":"127.0.0.1:1","enabled":"no"}])"), 400,
                        "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool");
  expect_populate_error_prefix(api.post("/populate", "[x]"), 400, "bad request body: invalid character");
  EXPECT_EQ(api.get("/proxies").body, "{}");
}

TEST(ApiPopulate, ADecodeErrorAnywhereWinsOverAMissingFieldEarlier) {
  // The whole body is decoded before any entry is validated.
  ServerProcess server;
  const HttpClient api = server.api();
  expect_populate_error(
      api.post("/populate", R"([{"upstream":"127.0.0.1:1"},{"name":"b","upstream":"127.0.0.1:1","enabled":1}])"), 400,
      "bad request body: json: cannot unmarshal number into Go struct field Proxy.enabled of type bool");
  expect_populate_error(api.post("/populate", R"([{"upstream":"127.0.0.1:1"},7])"), 400,
                        "bad request body: json: cannot unmarshal number into Go value of type toxiproxy.Proxy");
  EXPECT_EQ(api.get("/proxies").body, "{}");
}

TEST(ApiPopulate, AnUnchangedEntryIsLeftAloneAndReportedAsItIsLive) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("keep", echo.port());
  ASSERT_EQ(api.post("/proxies/keep/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 200);
  const Json live = parse_json(api.get("/proxies/keep").body);
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));

  // D9: "localhost:P" is the address the proxy already has, so nothing is replaced,
  // and the response shows the live proxy with its toxics. "enabled" in the entry does not matter.
  for (const std::string& listen : {"localhost:" + std::to_string(port), "127.0.0.1:" + std::to_string(port)}) {
    const Json j = expect_json(api.post("/populate", "[" + entry("keep", listen, upstream_of(echo)) + "]"), 201);
    ASSERT_EQ(j["proxies"].size(), 1u);
    EXPECT_EQ(j["proxies"][0], live) << listen;
    EXPECT_EQ(parse_json(api.get("/proxies/keep").body), live);
    EXPECT_TRUE(echoes(client, "still " + listen));
  }
  EXPECT_EQ(echo.accepted(), 1);

  // A disabled proxy stays disabled when its entry is unchanged.
  ASSERT_EQ(api.patch("/proxies/keep", R"({"enabled":false})").status, 200);
  const Json disabled = parse_json(api.get("/proxies/keep").body);
  const Json j = expect_json(
      api.post("/populate", "[" + entry("keep", "localhost:" + std::to_string(port), upstream_of(echo),
                                        R"(,"enabled":true)") +
                                "]"),
      201);
  EXPECT_EQ(j["proxies"][0], disabled);
  EXPECT_EQ(j["proxies"][0]["enabled"], false);
  EXPECT_EQ(j["proxies"][0]["toxics"].size(), 1u);
  EXPECT_FALSE(port_accepts(port));
}

TEST(ApiPopulate, AChangedEntryReplacesTheProxy) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream first;
  TestUpstream second(TestUpstream::greet("second\n"));
  const int port = server.create_proxy("swap", first.port());
  ASSERT_EQ(api.post("/proxies/swap/toxics", R"({"type":"noop"})").status, 200);
  Socket old_client(connect_tcp(port));
  ASSERT_TRUE(echoes(old_client));

  // Same address, new upstream: a brand-new proxy without toxics.
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  const Json j = expect_json(api.post("/populate", "[" + entry("swap", listen, upstream_of(second)) + "]"), 201);
  EXPECT_EQ(j["proxies"][0].dump(), "{\"name\":\"swap\",\"listen\":\"" + listen + "\",\"upstream\":\"" +
                                        upstream_of(second) + "\",\"enabled\":true,\"toxics\":[]}");
  EXPECT_EQ(api.get("/proxies/swap/toxics").body, "[]");
  const ReadEnd end = wait_for_end(old_client.fd(), std::chrono::milliseconds(3000));
  EXPECT_TRUE(end == ReadEnd::Eof || end == ReadEnd::Reset) << to_string(end);
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(recv_exact(client.fd(), 7).data, "second\n");

  // A new address moves it; disabled in the entry means disabled.
  const Json k = expect_json(
      api.post("/populate", "[" + entry("swap", "127.0.0.1:0", upstream_of(second), R"(,"enabled":false)") + "]"), 201);
  EXPECT_EQ(k["proxies"][0]["enabled"], false);
  EXPECT_EQ(k["proxies"][0]["listen"], "127.0.0.1:0");
  EXPECT_FALSE(port_accepts(port));
}

TEST(ApiPopulate, ProxiesNotMentionedAreKept) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("bystander", echo.port());
  ASSERT_EQ(api.post("/proxies/bystander/toxics", R"({"type":"noop"})").status, 200);
  const std::string before = api.get("/proxies/bystander").body;
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));
  ASSERT_EQ(api.post("/populate", "[" + entry("newcomer", "127.0.0.1:0", upstream_of(echo)) + "]").status, 201);
  EXPECT_EQ(api.get("/proxies/bystander").body, before);
  EXPECT_EQ(keys_of(parse_json(api.get("/proxies").body)), (std::vector<std::string>{"bystander", "newcomer"}));
  EXPECT_TRUE(echoes(client));
}

TEST(ApiPopulate, ABindFailureMidListIs500AndChangesNothing) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("x", echo.port());
  ASSERT_EQ(api.post("/proxies/x/toxics", R"({"type":"noop"})").status, 200);
  const std::string before = api.get("/proxies").body;
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));
  PortHolder holder;
  ASSERT_TRUE(holder.ok());

  const std::string body = "[" + entry("new1", "127.0.0.1:0", upstream_of(echo)) + "," +
                           entry("x", "127.0.0.1:" + std::to_string(port), "127.0.0.1:1") + "," +
                           entry("bad", "localhost:" + std::to_string(holder.port()), upstream_of(echo)) + "]";
  // D10: nothing was applied, so no proxies are reported.
  expect_populate_error(api.post("/populate", body), 500, address_in_use(holder.port()));
  EXPECT_EQ(api.get("/proxies").body, before);
  EXPECT_TRUE(echoes(client, "x was not replaced"));
  // The port the first entry would have used is not held either: the list is as before.
  expect_error(api.get("/proxies/new1"), 404, "proxy not found");
}

TEST(ApiPopulate, EntriesApplyInOrderSoAPortFreedByAnEarlierEntryCanBeTaken) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int old_port = server.create_proxy("mover", echo.port());
  const int new_port = free_port();
  // "mover" leaves old_port for new_port, then "taker" listens on old_port.
  const std::string body = "[" + entry("mover", "127.0.0.1:" + std::to_string(new_port), upstream_of(echo)) + "," +
                           entry("taker", "127.0.0.1:" + std::to_string(old_port), upstream_of(echo)) + "]";
  const Json j = expect_json(api.post("/populate", body), 201);
  ASSERT_EQ(j["proxies"].size(), 2u);
  EXPECT_EQ(j["proxies"][0]["listen"], "127.0.0.1:" + std::to_string(new_port));
  EXPECT_EQ(j["proxies"][1]["listen"], "127.0.0.1:" + std::to_string(old_port));
  EXPECT_EQ(j["proxies"][1]["enabled"], true);
  Socket a(connect_tcp(new_port));
  EXPECT_TRUE(echoes(a));
  Socket b(connect_tcp(old_port));
  EXPECT_TRUE(echoes(b));
}

TEST(ApiPopulate, ANameListedTwiceEndsAsItsLastEntry) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream first;
  TestUpstream second(TestUpstream::greet("second\n"));
  const int port = free_port();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  // Same name, same address, another upstream: the second entry replaces the first.
  const std::string body =
      "[" + entry("twice", listen, upstream_of(first)) + "," + entry("twice", listen, upstream_of(second)) + "]";
  const Json j = expect_json(api.post("/populate", body), 201);
  ASSERT_EQ(j["proxies"].size(), 2u);
  EXPECT_EQ(j["proxies"][1]["upstream"], upstream_of(second));
  EXPECT_EQ(parse_json(api.get("/proxies/twice").body)["upstream"], upstream_of(second));
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(recv_exact(client.fd(), 7).data, "second\n");

  // Listed twice identically: the second entry finds the first unchanged.
  const std::string again = "[" + entry("same", "localhost:0", upstream_of(first), R"(,"enabled":false)") + "," +
                            entry("same", "localhost:0", upstream_of(first), R"(,"enabled":false)") + "]";
  const Json k = expect_json(api.post("/populate", again), 201);
  EXPECT_EQ(k["proxies"][1]["listen"], "localhost:0");
  EXPECT_EQ(k["proxies"][1]["enabled"], false);
}

// ---------------------------------------------------------------- reset

TEST(ApiReset, RemovesAllToxicsReenablesProxiesAndKeepsConnections) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int live_port = server.create_proxy("live", echo.port());
  const int off_port = server.create_proxy("off", echo.port());
  ASSERT_EQ(api.post("/proxies/live/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 200);
  ASSERT_EQ(api.post("/proxies/live/toxics", R"({"type":"noop","stream":"upstream"})").status, 200);
  ASSERT_EQ(api.post("/proxies/off/toxics", R"({"type":"slow_close"})").status, 200);
  ASSERT_EQ(api.patch("/proxies/off", R"({"enabled":false})").status, 200);
  ASSERT_FALSE(port_accepts(off_port));
  Socket client(connect_tcp(live_port));
  ASSERT_TRUE(echoes(client));

  // The body is ignored, whatever it is.
  const HttpResponse r = api.post("/reset", "this is not json");
  expect_no_content(r);
  EXPECT_TRUE(is_request_id(r.header("x-toxiproxy-request-id")));

  const Json list = parse_json(api.get("/proxies").body);
  EXPECT_EQ(keys_of(list), (std::vector<std::string>{"live", "off"}));
  EXPECT_EQ(list["live"].dump(), "{\"name\":\"live\",\"listen\":\"127.0.0.1:" + std::to_string(live_port) +
                                     "\",\"upstream\":\"" + upstream_of(echo) + "\",\"enabled\":true,\"toxics\":[]}");
  EXPECT_EQ(list["off"].dump(), "{\"name\":\"off\",\"listen\":\"127.0.0.1:" + std::to_string(off_port) +
                                    "\",\"upstream\":\"" + upstream_of(echo) + "\",\"enabled\":true,\"toxics\":[]}");
  EXPECT_TRUE(echoes(client, "after reset"));
  Socket revived(connect_tcp(off_port));
  ASSERT_TRUE(revived.valid());
  EXPECT_TRUE(echoes(revived));

  // A reset with nothing to do, and one with no proxies at all.
  expect_no_content(api.post("/reset"));
  expect_no_content(api.del("/proxies/live"));
  expect_no_content(api.del("/proxies/off"));
  expect_no_content(api.post("/reset"));
}

TEST(ApiReset, ADisabledProxyThatCannotListenIs500AndNothingChanges) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("blocked", echo.port());
  ASSERT_EQ(api.post("/proxies/blocked/toxics", R"({"type":"noop"})").status, 200);
  ASSERT_EQ(api.patch("/proxies/blocked", R"({"enabled":false})").status, 200);
  server.create_proxy("other", echo.port());
  ASSERT_EQ(api.post("/proxies/other/toxics", R"({"type":"latency"})").status, 200);
  const std::string before = api.get("/proxies").body;

  PortHolder holder(port);
  ASSERT_TRUE(holder.ok());
  expect_error(api.post("/reset", ""), 500, address_in_use(port));
  EXPECT_EQ(api.get("/proxies").body, before);  // D10: toxics kept everywhere, still disabled
}

}  // namespace faultline::test
