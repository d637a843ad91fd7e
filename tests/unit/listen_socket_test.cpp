// The proxies' listening sockets: what every accepted connection inherits
// from them (the engine relies on it instead of setting it per connection).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/ListenSocket.h"
#include "net/SocketAddress.h"

namespace faultline {

TEST(ListenSocket, AcceptedConnectionsInheritTcpNoDelay) {
  const net::ListenResult listener = net::open_listen_socket("127.0.0.1:0");
  ASSERT_GE(listener.fd, 0) << listener.error;
  const net::SocketAddress address = net::SocketAddress::of_socket(listener.fd);
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(client, address.get(), address.size()), 0);
  int accepted = -1;
  for (int i = 0; i < 200 && accepted < 0; ++i) {
    accepted = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (accepted < 0) ::usleep(5000);
  }
  ASSERT_GE(accepted, 0);
  int nodelay = 0;
  socklen_t length = sizeof nodelay;
  ASSERT_EQ(::getsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &nodelay, &length), 0);
  EXPECT_NE(nodelay, 0) << "small writes through the proxy would wait for ACKs (Nagle)";
  ::close(accepted);
  ::close(client);
  ::close(listener.fd);
}

}  // namespace faultline
