#pragma once
// What a user configures for one proxy.
#include <optional>
#include <string>

namespace faultline {

struct ProxySpec {
  std::string name;
  std::string listen;    // as given, or the resolved address once the proxy has listened
  std::string upstream;  // stored verbatim; resolved each time a client connects
  bool enabled = true;
  // What it carries: only "tcp" for now. The API writes it only when it is not tcp.
  std::string protocol = "tcp";
};

// The protocols a proxy may carry; a refusal names the value and what is allowed.
inline std::optional<std::string> check_protocol(const std::string& protocol) {
  if (protocol == "tcp") return std::nullopt;
  return "invalid protocol \"" + protocol + "\": faultline proxies carry tcp only (allowed: tcp)";
}

}  // namespace faultline
