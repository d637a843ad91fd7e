#pragma once
// Built-in upstreams for trying faultline at once (--demo-upstreams): an echo
// server and a tiny HTTP server on loopback. Not for production use; off by
// default.
#include <memory>
#include <string>
#include <vector>

namespace faultline {

struct DemoUpstreamAddresses {
  std::string http = "127.0.0.1:26080";
  std::string echo = "127.0.0.1:26007";
};

// One built-in server: an echo, or the small HTTP server (-test-server puts
// one on each route's upstream, as seed 002's chaos-proxy does).
struct DemoListener {
  enum class Kind { Echo, Http };
  std::string address;
  Kind kind = Kind::Http;
};

class DemoUpstreams {
 public:
  // Throws std::runtime_error naming the address that cannot be bound.
  explicit DemoUpstreams(const DemoUpstreamAddresses& addresses);
  explicit DemoUpstreams(const std::vector<DemoListener>& listeners);
  ~DemoUpstreams();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline
