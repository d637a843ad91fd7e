// The proxy endpoints (spec section 4, with D1 and D10): create, list, show,
// update and delete, their JSON shapes, their errors and what they do to the
// listener and to open connections.
#include <gtest/gtest.h>

#include "Upstreams.h"
#include "api_test_helpers.h"

namespace faultline::test {
namespace {

using namespace api;

std::string upstream_of(const TestUpstream& u) { return "127.0.0.1:" + std::to_string(u.port()); }

std::string proxy_body(const std::string& name, const std::string& listen, const std::string& upstream,
                       const std::string& extra = "") {
  return "{\"name\":" + quoted(name) + ",\"listen\":" + quoted(listen) + ",\"upstream\":" + quoted(upstream) +
         extra + "}";
}

// The proxy as GET /proxies/{name} shows it.
Json show(const HttpClient& api, const std::string& name) {
  const HttpResponse r = api.get("/proxies/" + name);
  EXPECT_EQ(r.status, 200) << r.body;
  return parse_json(r.body);
}

}  // namespace

// ---------------------------------------------------------------- create

TEST(ApiProxies, CreateAnswers201WithTheProxyInStructOrderAndNoLogger) {
  ServerProcess server;
  TestUpstream echo;
  const HttpResponse r = server.api().post("/proxies", proxy_body("p", "127.0.0.1:0", upstream_of(echo)));
  const Json j = expect_json(r, 201);
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"name", "listen", "upstream", "enabled", "toxics"}));
  EXPECT_FALSE(j.contains("Logger"));
  const int port = port_of(j["listen"]);
  EXPECT_EQ(r.body, "{\"name\":\"p\",\"listen\":\"127.0.0.1:" + std::to_string(port) + "\",\"upstream\":\"" +
                        upstream_of(echo) + "\",\"enabled\":true,\"toxics\":[]}");
  EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
  // It is live: bytes go through to the upstream.
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  EXPECT_TRUE(echoes(client));
}

TEST(ApiProxies, CreateDefaultsAndIgnoredKeys) {
  ServerProcess server;
  const HttpClient api = server.api();
  // enabled absent or null: true. "toxics": null (the Go client sends it) and unknown keys are ignored.
  EXPECT_EQ(expect_json(api.post("/proxies", proxy_body("a", "127.0.0.1:0", "127.0.0.1:1")), 201)["enabled"], true);
  EXPECT_EQ(expect_json(api.post("/proxies", proxy_body("b", "127.0.0.1:0", "127.0.0.1:1", R"(,"enabled":null)")),
                        201)["enabled"],
            true);
  const Json c = expect_json(
      api.post("/proxies", proxy_body("c", "127.0.0.1:0", "127.0.0.1:1", R"(,"toxics":null,"colour":"blue")")), 201);
  EXPECT_EQ(c["toxics"], Json::array());
  EXPECT_FALSE(c.contains("colour"));
  // Only the first JSON value counts; what follows it is ignored.
  EXPECT_EQ(api.post("/proxies", proxy_body("d", "127.0.0.1:0", "127.0.0.1:1") + " garbage").status, 201);
  // The upstream is not checked until a client connects.
  EXPECT_EQ(expect_json(api.post("/proxies", proxy_body("e", "127.0.0.1:0", "not-a-valid-address")), 201)["upstream"],
            "not-a-valid-address");
}

TEST(ApiProxies, ListenIsReportedAsTheBoundAddress) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int wanted = free_port();
  const Json named =
      expect_json(api.post("/proxies", proxy_body("named", "localhost:" + std::to_string(wanted), upstream_of(echo))),
                  201);
  EXPECT_EQ(named["listen"], "127.0.0.1:" + std::to_string(wanted));
  EXPECT_EQ(show(api, "named")["listen"], "127.0.0.1:" + std::to_string(wanted));
  Socket client(connect_tcp(wanted));
  ASSERT_TRUE(client.valid());
  EXPECT_TRUE(echoes(client));

  const Json ephemeral = expect_json(api.post("/proxies", proxy_body("eph", "127.0.0.1:0", upstream_of(echo))), 201);
  const int port = port_of(ephemeral["listen"]);
  EXPECT_GT(port, 0);
  EXPECT_TRUE(port_accepts(port));
}

TEST(ApiProxies, ListenOnIpv6Loopback) {
  ServerProcess server;
  TestUpstream echo;
  const HttpResponse r = server.api().post("/proxies", proxy_body("v6", "[::1]:0", upstream_of(echo)));
  if (r.status == 500) GTEST_SKIP() << "no IPv6 loopback here: " << r.body;
  const Json j = expect_json(r, 201);
  const std::string listen = j["listen"];
  ASSERT_EQ(listen.rfind("[::1]:", 0), 0u) << listen;
  const int port = port_of(listen);
  EXPECT_GT(port, 0);
  Socket client(connect_tcp(port, "::1"));
  ASSERT_TRUE(client.valid());
  EXPECT_TRUE(echoes(client));
}

TEST(ApiProxies, ADisabledProxyKeepsItsListenTextAndDoesNotListen) {
  ServerProcess server;
  const HttpClient api = server.api();
  const int port = free_port();
  const std::string listen = "localhost:" + std::to_string(port);
  const Json j = expect_json(api.post("/proxies", proxy_body("off", listen, "127.0.0.1:1", R"(,"enabled":false)")), 201);
  EXPECT_EQ(j["listen"], listen);
  EXPECT_EQ(j["enabled"], false);
  EXPECT_EQ(show(api, "off")["listen"], listen);
  EXPECT_FALSE(port_accepts(port));
}

TEST(ApiProxies, MissingNameOrUpstreamIs400AndCreatesNothing) {
  ServerProcess server;
  const HttpClient api = server.api();
  expect_error(api.post("/proxies", R"({"upstream":"127.0.0.1:1"})"), 400, "missing required field: name");
  expect_error(api.post("/proxies", R"({"name":"","upstream":"127.0.0.1:1"})"), 400, "missing required field: name");
  expect_error(api.post("/proxies", R"({"name":null,"upstream":"127.0.0.1:1"})"), 400, "missing required field: name");
  expect_error(api.post("/proxies", R"({"name":"p"})"), 400, "missing required field: upstream");
  expect_error(api.post("/proxies", R"({"name":"p","upstream":""})"), 400, "missing required field: upstream");
  // Both missing: the name is reported.
  expect_error(api.post("/proxies", R"({})"), 400, "missing required field: name");
  EXPECT_EQ(api.get("/proxies").body, "{}");
}

TEST(ApiProxies, ADuplicateNameIs409EvenWhenItsPortIsBusy) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("dup", echo.port());
  const std::string before = api.get("/proxies/dup").body;
  expect_error(api.post("/proxies", proxy_body("dup", "127.0.0.1:0", "127.0.0.1:1")), 409, "proxy already exists");
  // Same name and the port it already holds: still 409, not a bind error.
  expect_error(api.post("/proxies", proxy_body("dup", "127.0.0.1:" + std::to_string(port), "127.0.0.1:1")), 409,
               "proxy already exists");
  EXPECT_EQ(api.get("/proxies/dup").body, before);
  Socket client(connect_tcp(port));
  EXPECT_TRUE(echoes(client));
}

TEST(ApiProxies, ABusyPortIs500WithGosTextAndTheProxyIsNotAdded) {
  ServerProcess server;
  const HttpClient api = server.api();
  PortHolder holder;
  ASSERT_TRUE(holder.ok());
  const std::string port = std::to_string(holder.port());
  expect_error(api.post("/proxies", proxy_body("busy", "127.0.0.1:" + port, "127.0.0.1:1")), 500,
               address_in_use(holder.port()));
  EXPECT_EQ(api.get("/proxies/busy").status, 404);
  // The text names the resolved address also when the request said localhost.
  expect_error(api.post("/proxies", proxy_body("busy", "localhost:" + port, "127.0.0.1:1")), 500,
               address_in_use(holder.port()));
  EXPECT_EQ(api.get("/proxies").body, "{}");
  // A port held by another proxy is just as busy.
  TestUpstream echo;
  const int taken = server.create_proxy("first", echo.port());
  expect_error(api.post("/proxies", proxy_body("second", "127.0.0.1:" + std::to_string(taken), "127.0.0.1:1")), 500,
               address_in_use(taken));
  EXPECT_EQ(api.get("/proxies/second").status, 404);
}

TEST(ApiProxies, OtherListenErrorsAre500) {
  ServerProcess server;
  const HttpClient api = server.api();
  expect_error(api.post("/proxies", proxy_body("a", "127.0.0.1", "127.0.0.1:1")), 500,
               "listen tcp: address 127.0.0.1: missing port in address");
  expect_error(api.post("/proxies", proxy_body("b", "127.0.0.1:99999", "127.0.0.1:1")), 500,
               "listen tcp: address 99999: invalid port");
  EXPECT_EQ(api.get("/proxies").body, "{}");
}

TEST(ApiProxies, BadBodiesAre400WithTheDecoderMessage) {
  ServerProcess server;
  const HttpClient api = server.api();
  expect_error(api.post("/proxies", ""), 400, "bad request body: EOF");
  expect_error(api.post("/proxies", "  \n"), 400, "bad request body: EOF");
  expect_error(api.post("/proxies", R"({"name":"p","upstream")"), 400, "bad request body: unexpected EOF");
  expect_error(api.post("/proxies", "{bad}"), 400,
               "bad request body: invalid character 'b' looking for beginning of object key string");
  expect_error(api.post("/proxies", R"({"name":"p","upstream":"127.0.0.1:1","enabled":"yes"})"), 400,
               "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool");
  expect_error(api.post("/proxies", R"([{"name":"p"}])"), 400,
               "bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy");
  expect_error(api.post("/proxies", R"({"name":5,"upstream":"127.0.0.1:1"})"), 400,
               "bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string");
  expect_error_prefix(api.post("/proxies", "nonsense"), 400, "bad request body: invalid character");
  EXPECT_EQ(api.get("/proxies").body, "{}");
}

// ---------------------------------------------------------------- read

TEST(ApiProxies, ListIsAnObjectSortedByNameAndEmptyIsBraces) {
  ServerProcess server;
  const HttpClient api = server.api();
  const HttpResponse empty = api.get("/proxies");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.header("content-type"), "application/json");
  EXPECT_EQ(empty.body, "{}");

  for (const char* name : {"zeta", "Alpha", "alpha", "mid"})
    ASSERT_EQ(api.post("/proxies", proxy_body(name, "127.0.0.1:0", "127.0.0.1:1", R"(,"enabled":false)")).status, 201);
  const Json list = expect_json(api.get("/proxies"), 200);
  EXPECT_EQ(keys_of(list), (std::vector<std::string>{"Alpha", "alpha", "mid", "zeta"}));
  for (const auto& name : keys_of(list)) {
    EXPECT_EQ(list[name], show(api, name));
    EXPECT_EQ(keys_of(list[name]), (std::vector<std::string>{"name", "listen", "upstream", "enabled", "toxics"}));
  }
}

TEST(ApiProxies, ShowReturnsTheProxyOr404) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const std::string created = api.post("/proxies", proxy_body("p", "127.0.0.1:0", upstream_of(echo))).body;
  const HttpResponse r = api.get("/proxies/p");
  expect_json(r, 200);
  EXPECT_EQ(r.body, created);
  expect_error(api.get("/proxies/missing"), 404, "proxy not found");
  expect_error(api.get("/proxies/P"), 404, "proxy not found");  // names are case-sensitive
}

// ---------------------------------------------------------------- update

TEST(ApiProxies, UpdateErrors) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  server.create_proxy("p", echo.port());
  const std::string before = api.get("/proxies/p").body;
  expect_error(api.patch("/proxies/missing", R"({"enabled":false})"), 404, "proxy not found");
  // The unknown proxy is reported before a bad body.
  expect_error(api.patch("/proxies/missing", ""), 404, "proxy not found");
  expect_error(api.patch("/proxies/p", ""), 400, "bad request body: EOF");
  expect_error(api.patch("/proxies/p", R"({"enabled":1})"), 400,
               "bad request body: json: cannot unmarshal number into Go struct field Proxy.enabled of type bool");
  expect_error(api.patch("/proxies/p", R"({"listen":false})"), 400,
               "bad request body: json: cannot unmarshal bool into Go struct field Proxy.listen of type string");
  expect_error_prefix(api.patch("/proxies/p", R"({"upstream":)"), 400, "bad request body: ");
  EXPECT_EQ(api.get("/proxies/p").body, before);
}

TEST(ApiProxies, AnUnchangedUpdateIsANoOpThatKeepsConnections) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("p", echo.port());
  ASSERT_EQ(api.post("/proxies/p/toxics", R"({"type":"noop"})").status, 200);
  const std::string before = api.get("/proxies/p").body;
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));

  // {} changes nothing.
  HttpResponse r = api.patch("/proxies/p", "{}");
  expect_json(r, 200);
  EXPECT_EQ(r.body, before);
  // What the Go client's Save() sends: the whole object, by POST.
  r = api.post("/proxies/p", before);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, before);
  // enabled:true on an enabled proxy; a name in the body is ignored (no renames).
  r = api.patch("/proxies/p", R"({"enabled":true,"name":"other"})");
  EXPECT_EQ(r.body, before);
  EXPECT_EQ(api.get("/proxies/other").status, 404);

  EXPECT_TRUE(echoes(client, "still here"));
  EXPECT_EQ(echo.accepted(), 1);
}

TEST(ApiProxies, ChangingTheUpstreamRestartsOnTheSameAddress) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream first;
  TestUpstream second(TestUpstream::greet("second\n"));
  const int port = server.create_proxy("p", first.port());
  ASSERT_EQ(api.post("/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 200);
  Socket old_client(connect_tcp(port));
  ASSERT_TRUE(echoes(old_client));

  const Json j = expect_json(api.patch("/proxies/p", "{\"upstream\":" + quoted(upstream_of(second)) + "}"), 200);
  EXPECT_EQ(j["upstream"], upstream_of(second));
  EXPECT_EQ(j["listen"], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["toxics"].size(), 1u);  // toxics survive every update
  // The old connection was closed; new ones reach the new upstream.
  const ReadEnd end = wait_for_end(old_client.fd(), std::chrono::milliseconds(3000));
  EXPECT_TRUE(end == ReadEnd::Eof || end == ReadEnd::Reset) << to_string(end);
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(recv_exact(client.fd(), 7).data, "second\n");
}

TEST(ApiProxies, ChangingTheListenMovesTheListener) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int old_port = server.create_proxy("p", echo.port());
  const int wanted = free_port();
  const Json j = expect_json(api.patch("/proxies/p", R"({"listen":"localhost:)" + std::to_string(wanted) + "\"}"), 200);
  EXPECT_EQ(j["listen"], "127.0.0.1:" + std::to_string(wanted));
  EXPECT_EQ(j["enabled"], true);
  EXPECT_FALSE(port_accepts(old_port));
  Socket client(connect_tcp(wanted));
  ASSERT_TRUE(client.valid());
  EXPECT_TRUE(echoes(client));

  // Port 0 picks a fresh port.
  const Json k = expect_json(api.patch("/proxies/p", R"({"listen":"127.0.0.1:0"})"), 200);
  const int fresh = port_of(k["listen"]);
  EXPECT_NE(fresh, wanted);
  EXPECT_TRUE(port_accepts(fresh));
}

TEST(ApiProxies, DisableAndEnable) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("p", echo.port());
  ASSERT_EQ(api.post("/proxies/p/toxics", R"({"type":"noop","stream":"upstream"})").status, 200);
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));

  const Json off = expect_json(api.patch("/proxies/p", R"({"enabled":false})"), 200);
  EXPECT_EQ(off["enabled"], false);
  EXPECT_EQ(off["listen"], "127.0.0.1:" + std::to_string(port));  // the resolved form is kept
  EXPECT_EQ(off["toxics"].size(), 1u);
  const ReadEnd end = wait_for_end(client.fd(), std::chrono::milliseconds(3000));
  EXPECT_TRUE(end == ReadEnd::Eof || end == ReadEnd::Reset) << to_string(end);
  EXPECT_FALSE(port_accepts(port));

  // Changing the upstream of a disabled proxy keeps it disabled.
  TestUpstream other(TestUpstream::greet("other\n"));
  const Json moved = expect_json(api.patch("/proxies/p", "{\"upstream\":" + quoted(upstream_of(other)) + "}"), 200);
  EXPECT_EQ(moved["enabled"], false);
  EXPECT_EQ(moved["upstream"], upstream_of(other));
  EXPECT_FALSE(port_accepts(port));

  const Json on = expect_json(api.patch("/proxies/p", R"({"enabled":true})"), 200);
  EXPECT_EQ(on["enabled"], true);
  EXPECT_EQ(on["listen"], "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(on["toxics"].size(), 1u);
  Socket again(connect_tcp(port));
  ASSERT_TRUE(again.valid());
  EXPECT_EQ(recv_exact(again.fd(), 6).data, "other\n");
}

TEST(ApiProxies, AFailedMoveChangesNothingAndTheOldListenerKeepsServing) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("p", echo.port());
  ASSERT_EQ(api.post("/proxies/p/toxics", R"({"type":"noop"})").status, 200);
  const std::string before = api.get("/proxies/p").body;
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));

  PortHolder holder;
  ASSERT_TRUE(holder.ok());
  expect_error(api.patch("/proxies/p", R"({"listen":"127.0.0.1:)" + std::to_string(holder.port()) +
                                           R"(","upstream":"127.0.0.1:1"})"),
               500, address_in_use(holder.port()));
  // D10: same proxy, same listener, same connection.
  EXPECT_EQ(api.get("/proxies/p").body, before);
  EXPECT_TRUE(echoes(client, "after the failed move"));
  Socket fresh(connect_tcp(port));
  ASSERT_TRUE(fresh.valid());
  EXPECT_TRUE(echoes(fresh));

  // Also when enabling a disabled proxy fails: it stays disabled as it was.
  ASSERT_EQ(api.patch("/proxies/p", R"({"enabled":false})").status, 200);
  const std::string disabled = api.get("/proxies/p").body;
  expect_error(api.patch("/proxies/p", R"({"enabled":true,"listen":"127.0.0.1:)" + std::to_string(holder.port()) +
                                           "\"}"),
               500, address_in_use(holder.port()));
  EXPECT_EQ(api.get("/proxies/p").body, disabled);
}

// ---------------------------------------------------------------- delete

TEST(ApiProxies, DeleteIs204ClosesEverythingAndFreesThePortAtOnce) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  const int port = server.create_proxy("p", echo.port());
  Socket client(connect_tcp(port));
  ASSERT_TRUE(echoes(client));

  const HttpResponse r = api.del("/proxies/p");
  expect_no_content(r);
  EXPECT_TRUE(is_request_id(r.header("x-toxiproxy-request-id")));
  const ReadEnd end = wait_for_end(client.fd(), std::chrono::milliseconds(3000));
  EXPECT_TRUE(end == ReadEnd::Eof || end == ReadEnd::Reset) << to_string(end);
  expect_error(api.get("/proxies/p"), 404, "proxy not found");
  expect_error(api.del("/proxies/p"), 404, "proxy not found");
  EXPECT_EQ(api.get("/proxies").body, "{}");

  // The port is free immediately: a new proxy (and our own socket) can take it.
  const HttpResponse again = api.post("/proxies", proxy_body("p2", "127.0.0.1:" + std::to_string(port), upstream_of(echo)));
  EXPECT_EQ(again.status, 201) << again.body;
  expect_no_content(api.del("/proxies/p2"));
  PortHolder holder(port);
  EXPECT_TRUE(holder.ok());
}

}  // namespace faultline::test
