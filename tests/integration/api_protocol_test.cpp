// A proxy's protocol: tcp is the default and the only value for now; the
// key stays out of the JSON so Toxiproxy clients see the shapes they know.
#include <gtest/gtest.h>

#include "api_test_helpers.h"

namespace faultline::test {
namespace {

using namespace api;

TEST(ApiProtocol, TcpIsTheDefaultAndIsNeverWritten) {
  ServerProcess server;
  const auto created = server.api().post("/proxies", R"({"name":"a","listen":"127.0.0.1:0","upstream":"127.0.0.1:9","protocol":"tcp"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(parse_json(created.body).count("protocol"), 0u) << created.body;
  EXPECT_EQ(parse_json(server.api().get("/proxies/a").body).count("protocol"), 0u);
}

TEST(ApiProtocol, AnotherProtocolIsRefusedNamingTheValue) {
  ServerProcess server;
  const auto r = server.api().post("/proxies", R"({"name":"u","listen":"127.0.0.1:0","upstream":"127.0.0.1:9","protocol":"udp"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid protocol \\\"udp\\\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("allowed: tcp"), std::string::npos) << r.body;
  EXPECT_EQ(server.api().get("/proxies/u").status, 404) << "nothing was created";

  ASSERT_EQ(server.api().post("/proxies", R"({"name":"t","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})").status, 201);
  const auto change = server.api().post("/proxies/t", R"({"protocol":"udp"})");
  EXPECT_EQ(change.status, 400) << change.body;
  EXPECT_NE(change.body.find("cannot change"), std::string::npos) << change.body;
}

}  // namespace
}  // namespace faultline::test
