#include "model/ClientNetworks.h"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

#include "model/Attribute.h"

namespace faultline {
namespace {

// The address part of "host:port" or "[v6]:port" (or a bare address).
std::string host_of(std::string_view client) {
  if (!client.empty() && client.front() == '[') {
    const size_t close = client.find(']');
    return std::string(client.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = client.rfind(':');
  if (colon != std::string_view::npos && client.find(':') == colon) return std::string(client.substr(0, colon));
  return std::string(client);
}

bool prefix_matches(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  const int whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<ClientNetwork> parse_client_network(std::string_view text) {
  if (check_cidr(text)) return std::nullopt;
  const std::string s(text);
  const size_t slash = s.find('/');
  const std::string address = s.substr(0, slash);
  ClientNetwork n;
  if (::inet_pton(AF_INET, address.c_str(), n.address.data()) == 1) {
    n.prefix = 32;
  } else if (::inet_pton(AF_INET6, address.c_str(), n.address.data()) == 1) {
    n.v6 = true;
    n.prefix = 128;
  } else {
    return std::nullopt;
  }
  if (slash != std::string::npos) n.prefix = std::stoi(s.substr(slash + 1));
  return n;
}

ClientNetworks::ClientNetworks(std::vector<std::string> written) : written_(std::move(written)) {
  for (const auto& w : written_) {
    auto n = parse_client_network(w);
    if (!n) throw std::invalid_argument(w);
    networks_.push_back(*n);
  }
}

bool ClientNetworks::contains(std::string_view client) const {
  const std::string host = host_of(client);
  std::array<uint8_t, 16> address{};
  bool v6 = false;
  if (::inet_pton(AF_INET, host.c_str(), address.data()) != 1) {
    if (::inet_pton(AF_INET6, host.c_str(), address.data()) != 1) return false;
    v6 = true;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(address.data(), kMapped, 12) == 0) {  // an IPv4 client on a dual-stack socket
      std::memmove(address.data(), address.data() + 12, 4);
      std::memset(address.data() + 4, 0, 12);
      v6 = false;
    }
  }
  for (const auto& n : networks_)
    if (n.v6 == v6 && prefix_matches(n.address, address, n.prefix)) return true;
  return false;
}

}  // namespace faultline
