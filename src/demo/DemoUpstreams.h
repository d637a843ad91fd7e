#pragma once
// Built-in upstreams for trying faultline at once (--demo-upstreams): an echo
// server and a tiny HTTP server on loopback. Not for production use; off by
// default.
#include <memory>
#include <string>

namespace faultline {

struct DemoUpstreamAddresses {
  std::string http = "127.0.0.1:26080";
  std::string echo = "127.0.0.1:26007";
};

class DemoUpstreams {
 public:
  // Throws std::runtime_error when an address cannot be bound.
  explicit DemoUpstreams(const DemoUpstreamAddresses& addresses);
  ~DemoUpstreams();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline
