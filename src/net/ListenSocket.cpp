#include "net/ListenSocket.h"

#include <netinet/in.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "net/SocketAddress.h"
#include "util/ErrnoText.h"

namespace faultline::net {
namespace {

ListenResult failure(std::string text) {
  ListenResult r;
  r.error = std::move(text);
  return r;
}

// Go picks an IPv4 address when a host name has both kinds.
const SocketAddress& preferred(const std::vector<SocketAddress>& addresses) {
  for (const auto& a : addresses)
    if (a.family() == AF_INET) return a;
  return addresses.front();
}

}  // namespace

ListenTarget resolve_listen(std::string_view listen) {
  ListenTarget t;
  t.requested = listen;
  std::string error;
  std::string host;
  uint16_t port = 0;
  if (!listen.empty()) {
    auto hp = split_host_port(listen, error);
    if (!hp) return t.error = "listen tcp: " + error, t;
    auto parsed_port = parse_port(hp->port, error);
    if (!parsed_port) return t.error = "listen tcp: " + error, t;
    host = hp->host;
    port = *parsed_port;
  }
  t.all_interfaces = host.empty();
  if (host.empty()) {
    t.address = *SocketAddress::from_ip("::", port);  // all interfaces, both families
  } else {
    auto candidates = resolve(host, port, error);
    if (candidates.empty()) return t.error = "listen tcp: " + error, t;
    t.address = preferred(candidates);
  }
  t.canonical = t.all_interfaces ? fmt::format("[::]:{}", port) : t.address->to_string();
  return t;
}

ListenResult open_listen_socket(const ListenTarget& target, int backlog) {
  if (!target.address) return failure(target.error);
  const SocketAddress& address = *target.address;
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure(fmt::format("listen tcp {}: socket: {}", address.to_string(), errno_text(errno)));
  const int on = 1, off = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // Accepted sockets inherit TCP_NODELAY: one system call less per connection.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (address.family() == AF_INET6 && target.all_interfaces) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (::bind(fd, address.get(), address.size()) != 0) {
    const int err = errno;
    ::close(fd);
    return failure(fmt::format("listen tcp {}: bind: {}", address.to_string(), errno_text(err)));
  }
  if (::listen(fd, backlog) != 0) {
    const int err = errno;
    ::close(fd);
    return failure(fmt::format("listen tcp {}: listen: {}", address.to_string(), errno_text(err)));
  }
  ListenResult r;
  r.fd = fd;
  SocketAddress bound = SocketAddress::of_socket(fd);
  r.address = bound.to_string();
  if (target.all_interfaces) r.address = fmt::format("[::]:{}", bound.port());
  return r;
}

ListenResult open_listen_socket(std::string_view listen, int backlog) {
  return open_listen_socket(resolve_listen(listen), backlog);
}

}  // namespace faultline::net
