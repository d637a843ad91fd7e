// The HTTP layer of the API (spec sections 2, 11 and 12): which paths and
// methods exist, what unmatched requests get, the request id, the browser
// block, /version, /metrics, and the HTTP/1.1 features clients rely on.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "Upstreams.h"
#include "api_test_helpers.h"

namespace faultline::test {
namespace {

using namespace api;

void expect_not_found_page(const HttpResponse& r, const std::string& what) {
  EXPECT_EQ(r.status, 404) << what;
  EXPECT_EQ(r.body, "404 page not found\n") << what;
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8") << what;
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << what;
  EXPECT_FALSE(r.has_header("x-toxiproxy-request-id")) << what;
}

// A complete HTTP/1.1 request with a Content-Length body.
std::string request_text(const std::string& method, const std::string& path, const std::string& body,
                         const std::string& extra_headers = "") {
  return method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST(ApiRouting, UnknownPathsGetThePlainNotFoundPage) {
  ServerProcess server;
  const HttpClient api = server.api();
  for (const char* path : {"/", "/nope", "/proxies/", "/version/", "/metrics", "/proxies/p/toxics/",
                           "/proxies/p/extra", "/proxies/p/toxics/t/more", "/Proxies"}) {
    expect_not_found_page(api.get(path), path);
  }
  // Other methods on an unknown path are 404 as well, not 405.
  expect_not_found_page(api.request("DELETE", "/nope"), "DELETE /nope");
  expect_not_found_page(api.post("/proxies/", "{}"), "POST /proxies/");
}

TEST(ApiRouting, WrongMethodOnAKnownPathIs405WithNothingInIt) {
  ServerProcess server;
  const HttpClient api = server.api();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PUT", "/proxies"},          {"DELETE", "/proxies"},         {"GET", "/reset"},
      {"GET", "/populate"},         {"POST", "/version"},           {"PUT", "/proxies/x"},
      {"HEAD", "/version"},         {"OPTIONS", "/proxies"},        {"PATCH", "/proxies"},
      {"DELETE", "/proxies/x/toxics"}, {"PUT", "/proxies/x/toxics/y"}, {"DELETE", "/populate"}};
  for (const auto& [method, path] : cases) {
    const HttpResponse r = api.request(method, path);
    const std::string what = method + " " + path;
    EXPECT_EQ(r.status, 405) << what;
    EXPECT_TRUE(r.body.empty()) << what;
    EXPECT_EQ(r.header("content-length"), "0") << what;
    EXPECT_FALSE(r.has_header("content-type")) << what;
    EXPECT_FALSE(r.has_header("x-toxiproxy-request-id")) << what;
  }
}

TEST(ApiRouting, MatchedRoutesCarryADistinctRequestId) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  server.create_proxy("p", echo.port());
  std::vector<HttpResponse> responses = {
      api.get("/proxies"),                              // 200
      api.get("/proxies/missing"),                      // 404 from a handler, not the router
      api.post("/proxies", ""),                         // 400
      api.post("/proxies/p/toxics", R"({"type":"noop"})"),  // 200
      api.del("/proxies/p/toxics/noop_downstream"),     // 204
      api.get("/version"),
  };
  std::set<std::string> seen;
  for (const auto& r : responses) {
    const std::string id = r.header("x-toxiproxy-request-id");
    EXPECT_TRUE(is_request_id(id)) << r.status_line << " id '" << id << "'";
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), responses.size());
  EXPECT_EQ(responses[1].status, 404);
  EXPECT_EQ(responses[2].status, 400);
  EXPECT_EQ(responses[4].status, 204);
}

TEST(ApiRouting, EveryResponseHasADate) {
  ServerProcess server;
  const HttpClient api = server.api();
  EXPECT_TRUE(api.get("/proxies").has_header("date"));
  EXPECT_TRUE(api.get("/nope").has_header("date"));
  EXPECT_TRUE(api.request("PUT", "/proxies").has_header("date"));
}

TEST(ApiRouting, PathSegmentsAreUrlDecoded) {
  ServerProcess server;
  const HttpClient api = server.api();
  TestUpstream echo;
  ASSERT_EQ(api.post("/proxies", R"({"name":"with space","listen":"127.0.0.1:0","upstream":"127.0.0.1:)" +
                                     std::to_string(echo.port()) + "\"}")
                .status,
            201);
  const HttpResponse got = api.get("/proxies/with%20space");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(parse_json(got.body)["name"], "with space");

  ASSERT_EQ(api.post("/proxies/with%20space/toxics", R"({"name":"slow one","type":"latency"})").status, 200);
  const HttpResponse toxic = api.get("/proxies/with%20space/toxics/slow%20one");
  ASSERT_EQ(toxic.status, 200) << toxic.body;
  EXPECT_EQ(parse_json(toxic.body)["name"], "slow one");
  // Hex digits of either case decode the same.
  EXPECT_EQ(api.get("/proxies/with%20space/toxics/slow%20one").status, 200);
  EXPECT_EQ(api.get("/proxies/%77ith%20space").status, 200);
  expect_no_content(api.del("/proxies/with%20space/toxics/slow%20one"));
  expect_no_content(api.del("/proxies/with%20space"));
}

TEST(ApiRouting, AnEncodedSlashSplitsTheSegmentSoSuchANameCannotBeAddressed) {
  ServerProcess server;
  const HttpClient api = server.api();
  const HttpResponse created = api.post("/proxies", R"({"name":"a/b","upstream":"127.0.0.1:1","enabled":false})");
  ASSERT_EQ(created.status, 201) << created.body;
  expect_not_found_page(api.get("/proxies/a%2Fb"), "GET /proxies/a%2Fb");
  expect_not_found_page(api.get("/proxies/a%2fb"), "GET /proxies/a%2fb");
  expect_not_found_page(api.del("/proxies/a%2Fb"), "DELETE /proxies/a%2Fb");
  // It still shows up in the list.
  EXPECT_TRUE(parse_json(api.get("/proxies").body).contains("a/b"));
}

TEST(ApiRouting, QueryStringsAreIgnored) {
  ServerProcess server;
  const HttpClient api = server.api();
  EXPECT_EQ(api.get("/proxies?verbose=1").body, "{}");
  EXPECT_EQ(api.get("/version?x").status, 200);
  const HttpResponse created =
      api.post("/proxies?name=ignored", R"({"name":"q","upstream":"127.0.0.1:1","enabled":false})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(parse_json(created.body)["name"], "q");
  EXPECT_EQ(api.get("/proxies/q?x=1&y=2").status, 200);
  expect_not_found_page(api.get("/nope?x=1"), "GET /nope?x=1");
  EXPECT_EQ(api.request("PUT", "/proxies?x=1").status, 405);
}

TEST(ApiRouting, BrowserUserAgentsAreRefusedWith403) {
  ServerProcess server;
  const HttpClient api = server.api();
  const HttpResponse r = api.request("GET", "/proxies", "", {{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "User agent not allowed\n");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_TRUE(is_request_id(r.header("x-toxiproxy-request-id")));

  // A refused write changes nothing.
  const HttpResponse post = api.request("POST", "/proxies", R"({"name":"csrf","upstream":"127.0.0.1:1"})",
                                        {{"User-Agent", "Mozilla/4.0"}});
  EXPECT_EQ(post.status, 403);
  EXPECT_EQ(api.get("/proxies/csrf").status, 404);

  // Only matched routes are guarded: the router's 404 and 405 come first.
  expect_not_found_page(api.request("GET", "/nope", "", {{"User-Agent", "Mozilla/5.0"}}), "browser 404");
  EXPECT_EQ(api.request("PUT", "/proxies", "", {{"User-Agent", "Mozilla/5.0"}}).status, 405);
}

TEST(ApiRouting, OtherUserAgentsAreAllowed) {
  ServerProcess server;
  const HttpClient api = server.api();
  for (const char* ua : {"curl/8.5.0", "Wget/1.21", "toxiproxy-cli", "", "mozilla/5.0", "Mozilla", "xMozilla/5.0"}) {
    const HttpResponse r = api.request("GET", "/proxies", "", {{"User-Agent", ua}});
    EXPECT_EQ(r.status, 200) << "User-Agent '" << ua << "'";
  }
  // No User-Agent header at all.
  const HttpResponse r = parse_response(api.raw("GET /proxies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
}

TEST(ApiRouting, VersionHasItsOwnExactFormat) {
  const RunResult printed = run_server_to_exit({"-version"});
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(printed.output, m, std::regex("version (\\S+)"))) << printed.output;
  const std::string version = m[1];

  ServerProcess server;
  const HttpResponse r = server.api().get("/version");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json;charset=utf-8");
  EXPECT_EQ(r.body, "{\"version\": \"" + version + "\"}\n");
  EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
  EXPECT_TRUE(is_request_id(r.header("x-toxiproxy-request-id")));
}

TEST(ApiRouting, MetricsExistOnlyWithAMetricsFlag) {
  {
    ServerProcess plain;
    expect_not_found_page(plain.api().get("/metrics"), "GET /metrics without flags");
    expect_not_found_page(plain.api().post("/metrics", ""), "POST /metrics without flags");
  }
  ServerProcess server(ServerOptions{.args = {"-proxy-metrics"}});
  const HttpClient api = server.api();
  for (const char* method : {"GET", "POST", "DELETE", "PUT"}) {
    const HttpResponse r = api.request(method, "/metrics");
    EXPECT_EQ(r.status, 200) << method;
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8") << method;
    EXPECT_NE(r.body.find("promhttp_metric_handler_errors_total{cause=\"encoding\"} 0\n"), std::string::npos)
        << r.body;
  }
  // Trailing slash is still not a route.
  expect_not_found_page(api.get("/metrics/"), "GET /metrics/");
}

TEST(ApiRouting, KeepAliveServesSeveralRequestsOnOneConnection) {
  ServerProcess server;
  RawConnection conn(server.api_port());
  ASSERT_TRUE(conn.valid());
  conn.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
  const HttpResponse first = conn.read_response();
  EXPECT_EQ(first.status, 200);
  conn.send(request_text("POST", "/proxies", R"({"name":"ka","upstream":"127.0.0.1:1","enabled":false})"));
  const HttpResponse second = conn.read_response();
  EXPECT_EQ(second.status, 201) << second.body;
  // Errors do not end the connection either.
  conn.send("GET /proxies/none HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(conn.read_response().status, 404);
  conn.send("PUT /proxies HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(conn.read_response().status, 405);
  conn.send("GET /proxies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const HttpResponse last = conn.read_response();
  EXPECT_EQ(last.status, 200);
  EXPECT_TRUE(parse_json(last.body).contains("ka"));
  EXPECT_TRUE(conn.closed_by_server());
}

TEST(ApiRouting, PipelinedRequestsAreAnsweredInOrder) {
  ServerProcess server;
  RawConnection conn(server.api_port());
  conn.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\nGET /proxies HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(conn.read_response().header("content-type"), "application/json;charset=utf-8");
  EXPECT_EQ(conn.read_response().body, "{}");
}

TEST(ApiRouting, ExpectContinueGets100BeforeTheBodyIsSent) {
  ServerProcess server;
  RawConnection conn(server.api_port());
  const std::string body = R"({"name":"cont","upstream":"127.0.0.1:1","enabled":false})";
  conn.send("POST /proxies HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n");
  const HttpResponse interim = conn.read_response();
  EXPECT_EQ(interim.status, 100);
  EXPECT_EQ(interim.status_line, "HTTP/1.1 100 Continue");
  conn.send(body);
  const HttpResponse final_response = conn.read_response();
  EXPECT_EQ(final_response.status, 201) << final_response.body;
  EXPECT_EQ(server.api().get("/proxies/cont").status, 200);
}

TEST(ApiRouting, ChunkedRequestBodiesAreAccepted) {
  ServerProcess server;
  RawConnection conn(server.api_port());
  const std::string a = R"({"name":"chunky","upstr)";
  const std::string b = R"(eam":"127.0.0.1:1","enabled":false})";
  auto hex = [](size_t n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return std::string(buf);
  };
  conn.send("POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            hex(a.size()) + "\r\n" + a + "\r\n");
  conn.send(hex(b.size()) + "\r\n" + b + "\r\n0\r\n\r\n");
  const HttpResponse r = conn.read_response();
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse_json(r.body)["name"], "chunky");
  EXPECT_FALSE(r.has_header("transfer-encoding"));  // responses are never chunked
}

TEST(ApiRouting, ABodyOverTheLimitIs413AndChangesNothing) {
  ServerProcess server(ServerOptions{.args = {"-api-body-limit", "1024"}});
  const HttpClient api = server.api();
  auto body_of_size = [](const std::string& name, size_t size) {
    std::string body = R"({"name":")" + name + R"(","upstream":"127.0.0.1:1","enabled":false,"pad":")";
    body += std::string(size - body.size() - 2, 'x') + "\"}";
    return body;
  };
  // At the limit: fine.
  EXPECT_EQ(api.post("/proxies", body_of_size("fits", 1024)).status, 201);
  // One byte over, announced by Content-Length: refused before the body is read.
  const HttpResponse r = api.post("/proxies", body_of_size("toobig", 1025));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  const Json error = parse_json(r.body);
  EXPECT_EQ(error["status"], 413);
  EXPECT_NE(error["error"].get<std::string>().find("1024"), std::string::npos) << r.body;
  EXPECT_EQ(api.get("/proxies/toobig").status, 404);

  // Over the limit in a chunked body.
  RawConnection conn(server.api_port());
  const std::string big = body_of_size("chunked", 2000);
  char size_line[16];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", big.size());
  conn.send("POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(size_line) + big +
            "\r\n0\r\n\r\n");
  EXPECT_EQ(conn.read_response().status, 413);
  EXPECT_EQ(api.get("/proxies/chunked").status, 404);
}

TEST(ApiRouting, TheDefaultBodyLimitIsFourMebibytes) {
  ServerProcess server;
  RawConnection over(server.api_port());
  over.send("POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(4 * 1024 * 1024 + 1) +
            "\r\n\r\n");
  EXPECT_EQ(over.read_response().status, 413);

  // A body of exactly 4 MiB is read and decoded.
  std::string body = R"({"name":"large","upstream":"127.0.0.1:1","enabled":false,"pad":")";
  body += std::string(4 * 1024 * 1024 - body.size() - 2, 'x') + "\"}";
  EXPECT_EQ(server.api().post("/proxies", body).status, 201);
}

TEST(ApiRouting, ASilentClientIsDisconnected) {
  // The read timeout is 15 s by default, as Toxiproxy's; shortened here.
  ServerProcess server(ServerOptions{{"-api-read-timeout", "1s"}});
  Socket silent(connect_tcp(server.api_port()));
  ASSERT_TRUE(silent.valid());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_for_end(silent.fd(), std::chrono::seconds(5)), ReadEnd::Eof);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::milliseconds(3000));
  // A client that half-sends a request is dropped too, and the server keeps serving.
  Socket slow(connect_tcp(server.api_port()));
  slow.send("GET /version HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(wait_for_end(slow.fd(), std::chrono::seconds(5)), ReadEnd::Eof);
  EXPECT_EQ(server.api().get("/version").status, 200);
}

}  // namespace faultline::test
