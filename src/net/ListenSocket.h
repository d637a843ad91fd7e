#pragma once
// Opens a listening TCP socket for a "host:port" string, with the address
// choice and the error texts of Go's net.Listen("tcp", ...), which Toxiproxy
// clients see in API errors: "listen tcp 127.0.0.1:20001: bind: address already in use".
#include <optional>
#include <string>
#include <string_view>

#include "net/SocketAddress.h"

namespace faultline::net {

struct ListenResult {
  int fd = -1;              // non-blocking, close-on-exec; -1 on failure
  std::string address;      // the bound address, as Go prints it ("127.0.0.1:41234")
  std::string error;        // set on failure, e.g. "listen tcp: address 99999: invalid port"
};

// A listen string resolved to the address it would bind (DNS included), so
// that the lookup can happen before any lock is taken.
struct ListenTarget {
  std::string requested;                // as the user wrote it
  std::optional<SocketAddress> address; // nothing when it cannot be used
  bool all_interfaces = false;          // no host given: "[::]" for both families
  std::string canonical;                // "127.0.0.1:80" for "localhost:80"; "" when unusable
  std::string error;                    // Go's wording, when unusable
};

ListenTarget resolve_listen(std::string_view listen);
ListenResult open_listen_socket(const ListenTarget& target, int backlog = 4096);  // no DNS
ListenResult open_listen_socket(std::string_view listen, int backlog = 4096);

}  // namespace faultline::net
