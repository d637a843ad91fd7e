#include "net/SocketAddress.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace faultline::net {

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) {
  size_ = std::min<socklen_t>(len, sizeof storage_);
  std::memcpy(&storage_, sa, size_);
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

bool SocketAddress::is_unspecified() const {
  if (family() == AF_INET) return reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr == INADDR_ANY;
  if (family() == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
  return false;
}

std::string SocketAddress::host_string() const {
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {0};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
    return buf;
  }
  if (family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    // Go prints IPv4-mapped addresses in dotted form.
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      ::inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, sizeof buf);
      return buf;
    }
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    std::string host = buf;
    if (sin6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {0};
      host += '%';
      host += ::if_indextoname(sin6->sin6_scope_id, name) ? name : std::to_string(sin6->sin6_scope_id);
    }
    return host;
  }
  return "";
}

std::string SocketAddress::to_string() const {
  const std::string host = host_string();
  const bool bracket = family() == AF_INET6 && host.find(':') != std::string::npos;
  return bracket ? fmt::format("[{}]:{}", host, port()) : fmt::format("{}:{}", host, port());
}

std::optional<SocketAddress> SocketAddress::from_ip(std::string_view ip_text, uint16_t port) {
  std::string ip(ip_text);
  SocketAddress a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (::inet_pton(AF_INET, ip.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    a.size_ = sizeof(sockaddr_in);
    return a;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  std::string zone;
  if (auto pct = ip.find('%'); pct != std::string::npos) {
    zone = ip.substr(pct + 1);
    ip.resize(pct);
  }
  if (::inet_pton(AF_INET6, ip.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (!zone.empty()) {
      sin6->sin6_scope_id = ::if_nametoindex(zone.c_str());
      if (sin6->sin6_scope_id == 0) {
        unsigned idx = 0;
        auto [p, ec] = std::from_chars(zone.data(), zone.data() + zone.size(), idx);
        if (ec != std::errc() || p != zone.data() + zone.size()) return std::nullopt;
        sin6->sin6_scope_id = idx;
      }
    }
    a.size_ = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

SocketAddress SocketAddress::of_socket(int fd) {
  SocketAddress a;
  a.size_ = sizeof a.storage_;
  if (::getsockname(fd, a.get(), &a.size_) != 0) a.size_ = 0;
  return a;
}

SocketAddress SocketAddress::of_peer(int fd) {
  SocketAddress a;
  a.size_ = sizeof a.storage_;
  if (::getpeername(fd, a.get(), &a.size_) != 0) a.size_ = 0;
  return a;
}

bool SocketAddress::operator==(const SocketAddress& other) const {
  return size_ == other.size_ && std::memcmp(&storage_, &other.storage_, size_) == 0;
}

std::optional<HostPort> split_host_port(std::string_view hostport, std::string& error) {
  auto fail = [&](const char* why) -> std::optional<HostPort> {
    error = fmt::format("address {}: {}", hostport, why);
    return std::nullopt;
  };
  const size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos) return fail("missing port in address");
  std::string_view host;
  size_t j = 0, k = 0;
  if (!hostport.empty() && hostport[0] == '[') {
    const size_t end = hostport.find(']');
    if (end == std::string_view::npos) return fail("missing ']' in address");
    if (end + 1 == hostport.size()) return fail("missing port in address");
    if (end + 1 != colon) {
      if (hostport[end + 1] == ':') return fail("too many colons in address");
      return fail("missing port in address");
    }
    host = hostport.substr(1, end - 1);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return fail("too many colons in address");
  }
  if (hostport.find('[', j) != std::string_view::npos) return fail("unexpected '[' in address");
  if (hostport.find(']', k) != std::string_view::npos) return fail("unexpected ']' in address");
  return HostPort{std::string(host), std::string(hostport.substr(colon + 1))};
}

std::optional<uint16_t> parse_port(std::string_view port, std::string& error) {
  if (port.empty()) return uint16_t{0};  // Go treats an empty port as 0
  bool numeric = true;
  for (char c : port) numeric = numeric && c >= '0' && c <= '9';
  if (numeric) {
    unsigned long value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || value > 65535) {
      error = fmt::format("address {}: invalid port", port);
      return std::nullopt;
    }
    return static_cast<uint16_t>(value);
  }
  const std::string name(port);
  if (const servent* s = ::getservbyname(name.c_str(), "tcp")) return ntohs(static_cast<uint16_t>(s->s_port));
  error = fmt::format("address tcp/{}: unknown port", port);
  return std::nullopt;
}

std::vector<SocketAddress> resolve(std::string_view host_text, uint16_t port, std::string& error) {
  std::vector<SocketAddress> out;
  if (auto literal = SocketAddress::from_ip(host_text, port)) {
    out.push_back(*literal);
    return out;
  }
  const std::string host(host_text);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    error = fmt::format("lookup {}: {}", host,
                        rc == EAI_NONAME || rc == EAI_NODATA ? "no such host" : ::gai_strerror(rc));
    return out;
  }
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    SocketAddress a(ai->ai_addr, ai->ai_addrlen);
    a.set_port(port);
    bool seen = false;
    for (const auto& existing : out) seen = seen || existing == a;
    if (!seen) out.push_back(a);
  }
  ::freeaddrinfo(list);
  return out;
}

std::vector<SocketAddress> resolve_address(std::string_view address, std::string& error) {
  auto hp = split_host_port(address, error);
  if (!hp) return {};
  auto port = parse_port(hp->port, error);
  if (!port) return {};
  std::string host = hp->host.empty() ? "127.0.0.1" : hp->host;  // Go dials the local system for ":port"
  return resolve(host, *port, error);
}

}  // namespace faultline::net
