#pragma once
// IPv4/IPv6 socket addresses and the host:port strings users write for them,
// parsed and printed the way Go's net package does (Toxiproxy users see
// these strings in the API: "127.0.0.1:8474", "[::1]:20001").
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::net {

class SocketAddress {
 public:
  SocketAddress() = default;
  SocketAddress(const sockaddr* sa, socklen_t len);

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const { return size_; }
  void set_size(socklen_t size) { size_ = size; }
  socklen_t capacity() const { return sizeof storage_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  bool is_unspecified() const;  // 0.0.0.0 or ::
  std::string to_string() const;  // "127.0.0.1:80", "[::1]:80"
  std::string host_string() const;

  static std::optional<SocketAddress> from_ip(std::string_view ip, uint16_t port);
  static SocketAddress of_socket(int fd);  // getsockname
  static SocketAddress of_peer(int fd);    // getpeername

  bool operator==(const SocketAddress& other) const;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

struct HostPort {
  std::string host;
  std::string port;
};

// Go's net.SplitHostPort. On failure returns nothing and sets `error` to Go's
// wording ("missing port in address", "too many colons in address", ...).
std::optional<HostPort> split_host_port(std::string_view address, std::string& error);

// A numeric port or a service name ("http"). Go's wording on failure.
std::optional<uint16_t> parse_port(std::string_view port, std::string& error);

// Resolves host and port (blocking; may use DNS). IP literals never touch DNS.
// `error` gets Go's wording ("lookup nosuch: no such host").
std::vector<SocketAddress> resolve(std::string_view host, uint16_t port, std::string& error);

// Resolves a whole "host:port" string: what a proxy does with its upstream.
std::vector<SocketAddress> resolve_address(std::string_view address, std::string& error);

}  // namespace faultline::net
