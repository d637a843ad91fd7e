// The toxic endpoints (spec section 5, with D7, D8 and D10): create, list,
// show, update and delete, the JSON shape per type, defaults, the stream echo,
// the order in which errors are checked, and all-or-nothing updates.
#include <gtest/gtest.h>

#include "Upstreams.h"
#include "api_test_helpers.h"

namespace faultline::test {
namespace {

using namespace api;

// A server with one disabled proxy "p" (toxics do not need a live listener).
class ApiToxics : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(api.post("/proxies", R"({"name":"p","upstream":"127.0.0.1:1","enabled":false})").status, 201);
  }
  Json add(const std::string& body) { return expect_json(api.post("/proxies/p/toxics", body), 200); }
  std::vector<std::string> listed_names() {
    std::vector<std::string> names;
    for (const auto& t : parse_json(api.get("/proxies/p/toxics").body)) names.push_back(t["name"]);
    return names;
  }

  ServerProcess server;
  HttpClient api = server.api();
};

}  // namespace

// ---------------------------------------------------------------- create

TEST_F(ApiToxics, CreateAnswers200WithTheToxicInStructOrder) {
  const HttpResponse r = api.post("/proxies/p/toxics", R"({"type":"latency","attributes":{"latency":100,"jitter":10}})");
  expect_json(r, 200);
  EXPECT_EQ(r.body,
            R"({"attributes":{"latency":100,"jitter":10},"name":"latency_downstream","type":"latency",)"
            R"("stream":"downstream","toxicity":1})");
  EXPECT_TRUE(is_request_id(r.header("x-toxiproxy-request-id")));
  EXPECT_EQ(api.get("/proxies/p/toxics/latency_downstream").body, r.body);
}

TEST_F(ApiToxics, AttributesAreListedInTheTypesOwnOrderWithZeroDefaults) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"latency", R"({"latency":0,"jitter":0})"},
      {"bandwidth", R"({"rate":0})"},
      {"slow_close", R"({"delay":0})"},
      {"timeout", R"({"timeout":0})"},
      {"reset_peer", R"({"timeout":0})"},
      {"slicer", R"({"average_size":0,"size_variation":0,"delay":0})"},
      {"limit_data", R"({"bytes":0})"},
      {"noop", R"({})"},
  };
  for (const auto& [type, attributes] : expected) {
    const HttpResponse r = api.post("/proxies/p/toxics", R"({"type":")" + type + "\"}");
    ASSERT_EQ(r.status, 200) << type << ": " << r.body;
    EXPECT_EQ(r.body, "{\"attributes\":" + attributes + ",\"name\":\"" + type + "_downstream\",\"type\":\"" + type +
                          "\",\"stream\":\"downstream\",\"toxicity\":1}");
  }
  // Keys given in another order come back in the type's order.
  const HttpResponse slicer = api.post(
      "/proxies/p/toxics",
      R"({"name":"s2","type":"slicer","attributes":{"delay":3,"size_variation":2,"average_size":10}})");
  EXPECT_EQ(keys_of(parse_json(slicer.body)["attributes"]),
            (std::vector<std::string>{"average_size", "size_variation", "delay"}));
  const HttpResponse latency =
      api.post("/proxies/p/toxics", R"({"name":"l2","type":"latency","attributes":{"jitter":1,"latency":2}})");
  EXPECT_EQ(parse_json(latency.body)["attributes"].dump(), R"({"latency":2,"jitter":1})");
}

TEST_F(ApiToxics, DefaultsForNameStreamAndToxicity) {
  const Json down = add(R"({"type":"latency"})");
  EXPECT_EQ(down["name"], "latency_downstream");
  EXPECT_EQ(down["stream"], "downstream");
  EXPECT_EQ(down["toxicity"], 1);
  const Json up = add(R"({"type":"bandwidth","stream":"upstream","attributes":{"rate":100}})");
  EXPECT_EQ(up["name"], "bandwidth_upstream");
  // null and "" mean "not given".
  const Json nulls = add(R"({"type":"timeout","name":null,"stream":null,"toxicity":null,"attributes":null})");
  EXPECT_EQ(nulls.dump(),
            R"({"attributes":{"timeout":0},"name":"timeout_downstream","type":"timeout","stream":"downstream","toxicity":1})");
  EXPECT_EQ(add(R"({"type":"noop","name":""})")["name"], "noop_downstream");
}

TEST_F(ApiToxics, StreamIsCaseInsensitiveAndEchoedAsSent) {
  const Json t = add(R"({"type":"latency","stream":"UpStream"})");
  EXPECT_EQ(t["stream"], "UpStream");
  EXPECT_EQ(t["name"], "latency_UpStream");
  EXPECT_EQ(parse_json(api.get("/proxies/p/toxics/latency_UpStream").body)["stream"], "UpStream");
  add(R"({"type":"noop","stream":"DOWNSTREAM"})");
  add(R"({"type":"slow_close","stream":"upstream"})");
  // "UpStream" acts as upstream: it is listed with the upstream chain, before downstream toxics.
  EXPECT_EQ(listed_names(), (std::vector<std::string>{"latency_UpStream", "slow_close_upstream", "noop_DOWNSTREAM"}));
}

TEST_F(ApiToxics, InvalidStreamsAre400) {
  const std::string message = "stream was invalid, can be either upstream or downstream";
  expect_error(api.post("/proxies/p/toxics", R"({"type":"latency","stream":"sideways"})"), 400, message);
  expect_error(api.post("/proxies/p/toxics", R"({"type":"latency","stream":""})"), 400, message);
  expect_error(api.post("/proxies/p/toxics", R"({"type":"latency","stream":"up"})"), 400, message);
  EXPECT_EQ(api.get("/proxies/p/toxics").body, "[]");
}

TEST_F(ApiToxics, ErrorsAreCheckedInTheReferenceOrder) {
  add(R"({"name":"taken","type":"noop"})");
  // Unknown proxy before anything in the body.
  expect_error(api.post("/proxies/nope/toxics", ""), 404, "proxy not found");
  expect_error(api.post("/proxies/nope/toxics", R"({"type":"latency"})"), 404, "proxy not found");
  // Decoding before the stream.
  expect_error(api.post("/proxies/p/toxics", ""), 400, "bad request body: EOF");
  expect_error(api.post("/proxies/p/toxics", R"({"type":"latency","stream":5})"), 400,
               "bad request body: json: cannot unmarshal number into Go struct field ToxicWrapper.stream of type string");
  expect_error_prefix(api.post("/proxies/p/toxics", R"({"type":"latency",)"), 400, "bad request body: ");
  // The stream before the type.
  expect_error(api.post("/proxies/p/toxics", R"({"type":"bogus","stream":"sideways"})"), 400,
               "stream was invalid, can be either upstream or downstream");
  // The type before the name.
  expect_error(api.post("/proxies/p/toxics", R"({"type":"bogus","name":"taken"})"), 400, "invalid toxic type");
  expect_error(api.post("/proxies/p/toxics", R"({"name":"x"})"), 400, "invalid toxic type");
  expect_error(api.post("/proxies/p/toxics", R"({"type":"Latency"})"), 400, "invalid toxic type");
  // The name before the attributes.
  expect_error(api.post("/proxies/p/toxics", R"({"type":"latency","name":"taken","attributes":{"latency":"x"}})"), 409,
               "toxic already exists");
  EXPECT_EQ(listed_names(), (std::vector<std::string>{"taken"}));
}

TEST_F(ApiToxics, NamesAreUniqueAcrossBothStreams) {
  add(R"({"name":"t","type":"latency","stream":"downstream"})");
  expect_error(api.post("/proxies/p/toxics", R"({"name":"t","type":"latency","stream":"upstream"})"), 409,
               "toxic already exists");
  expect_error(api.post("/proxies/p/toxics", R"({"name":"t","type":"noop"})"), 409, "toxic already exists");
  // Default names clash too.
  add(R"({"type":"latency"})");
  expect_error(api.post("/proxies/p/toxics", R"({"type":"latency"})"), 409, "toxic already exists");
  EXPECT_EQ(listed_names(), (std::vector<std::string>{"t", "latency_downstream"}));
}

TEST_F(ApiToxics, UnknownProxyOrToxicIs404) {
  for (const std::string method : {"GET", "PATCH", "POST", "DELETE"}) {
    expect_error(api.request(method, "/proxies/nope/toxics/x", method == "GET" || method == "DELETE" ? "" : "{}"), 404,
                 "proxy not found");
    expect_error(api.request(method, "/proxies/p/toxics/x", method == "GET" || method == "DELETE" ? "" : "{}"), 404,
                 "toxic not found");
  }
  expect_error(api.get("/proxies/nope/toxics"), 404, "proxy not found");
  // A bad body does not hide the 404.
  expect_error(api.patch("/proxies/p/toxics/x", ""), 404, "toxic not found");
}

TEST_F(ApiToxics, AttributeDecoding) {
  // null, unknown keys and keys of other types are fine.
  EXPECT_EQ(add(R"({"name":"a","type":"latency","attributes":null})")["attributes"].dump(), R"({"latency":0,"jitter":0})");
  EXPECT_EQ(add(R"({"name":"b","type":"latency","attributes":{"rate":5,"colour":"red","latency":7}})")["attributes"].dump(),
            R"({"latency":7,"jitter":0})");
  // Negative latency, jitter, delay and timeout have a meaning ("none") and are accepted.
  EXPECT_EQ(add(R"({"name":"c","type":"latency","attributes":{"latency":-5}})")["attributes"]["latency"], -5);
  // Big integers are kept exactly.
  EXPECT_EQ(add(R"({"name":"d","type":"limit_data","attributes":{"bytes":9007199254740993}})")["attributes"]["bytes"],
            9007199254740993LL);

  // Integers only.
  expect_error(api.post("/proxies/p/toxics", R"({"name":"e","type":"latency","attributes":{"latency":1.5}})"), 400,
               "bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency "
               "of type int64");
  expect_error(api.post("/proxies/p/toxics", R"({"name":"e","type":"latency","attributes":{"jitter":"10"}})"), 400,
               "bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.jitter of "
               "type int64");
  expect_error_prefix(api.post("/proxies/p/toxics", R"({"name":"e","type":"latency","attributes":"fast"})"), 400,
                      "bad request body: ");
  expect_error_prefix(api.post("/proxies/p/toxics", R"({"name":"e","type":"latency","attributes":[1]})"), 400,
                      "bad request body: ");
  expect_error(api.get("/proxies/p/toxics/e"), 404, "toxic not found");  // not added
}

TEST_F(ApiToxics, ToxicityIsAFloat32PrintedInShortestForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0.5", "0.5"}, {"0.3", "0.3"}, {"1", "1"}, {"1.0", "1"}, {"0", "0"}, {"0.25", "0.25"},
      {"5", "5"},     {"-3", "-3"},   {"0.1", "0.1"}, {"1e-3", "0.001"}};
  int i = 0;
  for (const auto& [sent, printed] : cases) {
    const std::string name = "t" + std::to_string(i++);
    const HttpResponse r = api.post("/proxies/p/toxics", R"({"name":")" + name + R"(","type":"noop","toxicity":)" + sent + "}");
    ASSERT_EQ(r.status, 200) << sent << ": " << r.body;
    EXPECT_NE(r.body.find(",\"toxicity\":" + printed + "}"), std::string::npos) << sent << " -> " << r.body;
  }
}

TEST_F(ApiToxics, ToxicityMustBeANumberThatFitsAFloat32) {
  expect_error(api.post("/proxies/p/toxics", R"({"type":"noop","toxicity":"0.5"})"), 400,
               "bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type "
               "float32");
  expect_error_prefix(api.post("/proxies/p/toxics", R"({"type":"noop","toxicity":1e40})"), 400,
                      "bad request body: json: cannot unmarshal number 1e");
  expect_error_prefix(api.post("/proxies/p/toxics", R"({"type":"noop","toxicity":true})"), 400, "bad request body: ");
  EXPECT_EQ(api.get("/proxies/p/toxics").body, "[]");
}

TEST_F(ApiToxics, NegativeRatesAndSliceSizesAre400NamingTheAttribute) {
  auto expect_refused = [&](const std::string& body, const std::string& attribute) {
    const HttpResponse r = api.post("/proxies/p/toxics", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
    const Json j = parse_json(r.body);
    EXPECT_EQ(j["status"], 400);
    EXPECT_NE(j["error"].get<std::string>().find(attribute), std::string::npos) << j["error"];
  };
  expect_refused(R"({"type":"bandwidth","attributes":{"rate":-1}})", "rate");
  expect_refused(R"({"type":"slicer","attributes":{"average_size":-1}})", "average_size");
  expect_refused(R"({"type":"slicer","attributes":{"average_size":10,"size_variation":-2}})", "size_variation");
  EXPECT_EQ(api.get("/proxies/p/toxics").body, "[]");
  // Zero is allowed (D7: rate 0 holds the direction; D8: average_size 0 passes chunks whole),
  // and so is a variation not below the average (it is clamped).
  add(R"({"type":"bandwidth","attributes":{"rate":0}})");
  add(R"({"type":"slicer","attributes":{"average_size":0,"size_variation":0}})");
  add(R"({"name":"wide","type":"slicer","attributes":{"average_size":4,"size_variation":9}})");
  // An update cannot sneak a negative value in either.
  const std::string before = api.get("/proxies/p/toxics/bandwidth_downstream").body;
  const HttpResponse r = api.patch("/proxies/p/toxics/bandwidth_downstream", R"({"attributes":{"rate":-100}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("rate"), std::string::npos) << r.body;
  EXPECT_EQ(api.get("/proxies/p/toxics/bandwidth_downstream").body, before);
}

// ---------------------------------------------------------------- update

TEST_F(ApiToxics, UpdateMergesOnlyTheGivenKeys) {
  add(R"({"name":"lat","type":"latency","stream":"UpStream","toxicity":0.5,"attributes":{"latency":100,"jitter":10}})");
  HttpResponse r = api.patch("/proxies/p/toxics/lat", R"({"attributes":{"latency":500}})");
  expect_json(r, 200);
  EXPECT_EQ(r.body,
            R"({"attributes":{"latency":500,"jitter":10},"name":"lat","type":"latency","stream":"UpStream","toxicity":0.5})");
  // toxicity alone; attributes null; keys of other types; name/type/stream are ignored.
  r = api.patch("/proxies/p/toxics/lat",
                R"({"toxicity":0.25,"attributes":null,"name":"renamed","type":"timeout","stream":"downstream"})");
  EXPECT_EQ(r.body,
            R"({"attributes":{"latency":500,"jitter":10},"name":"lat","type":"latency","stream":"UpStream","toxicity":0.25})");
  r = api.patch("/proxies/p/toxics/lat", R"({"toxicity":null,"attributes":{"rate":1,"jitter":20}})");
  EXPECT_EQ(parse_json(r.body)["attributes"].dump(), R"({"latency":500,"jitter":20})");
  EXPECT_EQ(parse_json(r.body)["toxicity"], 0.25);
  // {} changes nothing; the deprecated POST works the same way.
  EXPECT_EQ(api.patch("/proxies/p/toxics/lat", "{}").body, r.body);
  r = api.post("/proxies/p/toxics/lat", R"({"attributes":{"latency":1}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(parse_json(r.body)["attributes"].dump(), R"({"latency":1,"jitter":20})");
  EXPECT_EQ(api.get("/proxies/p/toxics/lat").body, r.body);
  expect_error(api.get("/proxies/p/toxics/renamed"), 404, "toxic not found");
  EXPECT_EQ(listed_names(), (std::vector<std::string>{"lat"}));
}

TEST_F(ApiToxics, AFailedUpdateChangesNothing) {
  add(R"({"name":"lat","type":"latency","toxicity":0.5,"attributes":{"latency":100,"jitter":10}})");
  const std::string before = api.get("/proxies/p/toxics/lat").body;
  // D10: the good key decoded before the bad one is not applied.
  expect_error(api.patch("/proxies/p/toxics/lat", R"({"attributes":{"jitter":5,"latency":"abc"}})"), 400,
               "bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of "
               "type int64");
  EXPECT_EQ(api.get("/proxies/p/toxics/lat").body, before);
  expect_error_prefix(api.patch("/proxies/p/toxics/lat", R"({"toxicity":0.9,"attributes":{"latency":1.5}})"), 400,
                      "bad request body: ");
  expect_error_prefix(api.patch("/proxies/p/toxics/lat", R"({"attributes":{"latency":7},"toxicity":"high"})"), 400,
                      "bad request body: ");
  expect_error(api.patch("/proxies/p/toxics/lat", ""), 400, "bad request body: EOF");
  EXPECT_EQ(api.get("/proxies/p/toxics/lat").body, before);
}

// ---------------------------------------------------------------- delete and listing

TEST_F(ApiToxics, DeleteIs204AndTheNameCanBeReused) {
  add(R"({"name":"gone","type":"latency","stream":"upstream"})");
  const HttpResponse r = api.del("/proxies/p/toxics/gone");
  expect_no_content(r);
  EXPECT_TRUE(is_request_id(r.header("x-toxiproxy-request-id")));
  expect_error(api.get("/proxies/p/toxics/gone"), 404, "toxic not found");
  expect_error(api.del("/proxies/p/toxics/gone"), 404, "toxic not found");
  EXPECT_EQ(api.get("/proxies/p/toxics").body, "[]");
  // Reusable, even in the other stream and with another type.
  EXPECT_EQ(add(R"({"name":"gone","type":"timeout"})")["stream"], "downstream");
}

TEST_F(ApiToxics, ListIsUpstreamChainThenDownstreamChainInInsertionOrder) {
  const HttpResponse empty = api.get("/proxies/p/toxics");
  expect_json(empty, 200);
  EXPECT_EQ(empty.body, "[]");
  add(R"({"name":"d1","type":"noop"})");
  add(R"({"name":"u1","type":"noop","stream":"upstream"})");
  add(R"({"name":"d2","type":"latency"})");
  add(R"({"name":"u2","type":"latency","stream":"Upstream"})");
  add(R"({"name":"d0","type":"noop"})");
  const std::vector<std::string> order = {"u1", "u2", "d1", "d2", "d0"};
  EXPECT_EQ(listed_names(), order);
  // The proxy object lists them the same way, with the same objects.
  const Json proxy = parse_json(api.get("/proxies/p").body);
  EXPECT_EQ(proxy["toxics"], parse_json(api.get("/proxies/p/toxics").body));
  // Removing one in the middle keeps the others' order; a new one goes to the end of its chain.
  expect_no_content(api.del("/proxies/p/toxics/d2"));
  add(R"({"name":"u3","type":"noop","stream":"upstream"})");
  EXPECT_EQ(listed_names(), (std::vector<std::string>{"u1", "u2", "u3", "d1", "d0"}));
}

TEST_F(ApiToxics, ToxicsAddedToADisabledProxyApplyOnceItIsEnabled) {
  TestUpstream echo;
  const int port = free_port();
  ASSERT_EQ(api.post("/proxies", R"({"name":"later","listen":"127.0.0.1:)" + std::to_string(port) +
                                     R"(","upstream":"127.0.0.1:)" + std::to_string(echo.port()) +
                                     R"(","enabled":false})")
                .status,
            201);
  ASSERT_EQ(api.post("/proxies/later/toxics", R"({"type":"limit_data","attributes":{"bytes":3}})")
                .status,
            200);
  EXPECT_EQ(parse_json(api.get("/proxies/later").body)["toxics"].size(), 1u);
  EXPECT_FALSE(port_accepts(port));
  ASSERT_EQ(api.patch("/proxies/later", R"({"enabled":true})").status, 200);
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  client.send("hello");
  // Only 3 bytes of the echo come back, then the connection is closed.
  const ReadResult got = recv_all(client.fd(), std::chrono::milliseconds(3000));
  EXPECT_EQ(got.data, "hel");
  EXPECT_NE(got.end, ReadEnd::Timeout);
}

}  // namespace faultline::test
