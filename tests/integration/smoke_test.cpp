// The thinnest path: a proxy created through the API carries bytes both ways.
#include <gtest/gtest.h>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {

TEST(Smoke, ProxyCreatedThroughTheApiForwardsBytesBothWays) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("smoke", echo.port());
  Socket client(connect_tcp(port));
  ASSERT_TRUE(client.valid());
  client.send("hello through faultline");
  EXPECT_EQ(recv_exact(client.fd(), 23).data, "hello through faultline");
}

}  // namespace faultline::test
