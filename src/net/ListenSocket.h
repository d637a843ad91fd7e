#pragma once
// Opens a listening TCP socket for a "host:port" string, with the address
// choice and the error texts of Go's net.Listen("tcp", ...), which Toxiproxy
// clients see in API errors: "listen tcp 127.0.0.1:20001: bind: address already in use".
#include <string>
#include <string_view>

namespace faultline::net {

struct ListenResult {
  int fd = -1;              // non-blocking, close-on-exec; -1 on failure
  std::string address;      // the bound address, as Go prints it ("127.0.0.1:41234")
  std::string error;        // set on failure, e.g. "listen tcp: address 99999: invalid port"
};

ListenResult open_listen_socket(std::string_view listen, int backlog = 4096);

}  // namespace faultline::net
