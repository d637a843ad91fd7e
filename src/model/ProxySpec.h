#pragma once
// What a user configures for one proxy.
#include <string>

namespace faultline {

struct ProxySpec {
  std::string name;
  std::string listen;    // as given, or the resolved address once the proxy has listened
  std::string upstream;  // stored verbatim; resolved each time a client connects
  bool enabled = true;
};

}  // namespace faultline
