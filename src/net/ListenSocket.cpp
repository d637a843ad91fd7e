#include "net/ListenSocket.h"

#include <netinet/in.h>
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

ListenResult open_listen_socket(std::string_view listen, int backlog) {
  std::string error;
  std::string host;
  uint16_t port = 0;
  if (!listen.empty()) {
    auto hp = split_host_port(listen, error);
    if (!hp) return failure("listen tcp: " + error);
    auto parsed_port = parse_port(hp->port, error);
    if (!parsed_port) return failure("listen tcp: " + error);
    host = hp->host;
    port = *parsed_port;
  }
  SocketAddress address;
  if (host.empty()) {
    address = *SocketAddress::from_ip("::", port);  // all interfaces, both families
  } else {
    auto candidates = resolve(host, port, error);
    if (candidates.empty()) return failure("listen tcp: " + error);
    address = preferred(candidates);
  }
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure(fmt::format("listen tcp {}: socket: {}", address.to_string(), errno_text(errno)));
  const int on = 1, off = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (address.family() == AF_INET6 && host.empty()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
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
  if (host.empty()) r.address = fmt::format("[::]:{}", bound.port());
  return r;
}

}  // namespace faultline::net
