#pragma once
// A toxic's `clients`: the source networks it applies to ("10.0.0.0/8",
// "::1", "192.168.1.7/32"). A connection from anywhere else is not touched
// by that toxic, and a direction no toxic touches stays on the fast path.
// IPv4 clients of a dual-stack listener (::ffff:a.b.c.d) match IPv4 networks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

struct ClientNetwork {
  bool v6 = false;
  std::array<uint8_t, 16> address{};
  int prefix = 0;  // bits
};

// Nothing when `text` is not an address or a network.
std::optional<ClientNetwork> parse_client_network(std::string_view text);

class ClientNetworks {
 public:
  ClientNetworks() = default;
  // Throws std::invalid_argument naming the entry that is not a network.
  explicit ClientNetworks(std::vector<std::string> written);

  bool empty() const { return written_.empty(); }
  const std::vector<std::string>& written() const { return written_; }  // as the user wrote them
  // `client` as ConnectionInfo has it: "127.0.0.1:50123" or "[::1]:50123".
  bool contains(std::string_view client) const;

  bool operator==(const ClientNetworks& o) const { return written_ == o.written_; }

 private:
  std::vector<std::string> written_;
  std::vector<ClientNetwork> networks_;
};

}  // namespace faultline
