#pragma once
// A target of `faultline load`, from its URL and the protocol options:
//   tcp://host:port            echo: send --payload bytes, expect them back
//   http://host:port/path      HTTP/1.1 keep-alive requests
//   redis://host:port          PING, or --mix get=80,set=20
//   memcached://h1:p,h2:p,...  meta protocol mg/ms, keys spread over the servers
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace faultline::load {

class TargetError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class Scheme : uint8_t { Tcp, Http, Redis, Memcached };

struct Endpoint {
  std::string host;  // as written
  uint16_t port = 0;
};

struct OperationMix {
  int get = 0, set = 0;  // weights; both 0: the protocol's default
};

// Protocol options shared by every target of one run.
struct ProtocolOptions {
  size_t payload = 64;                 // tcp: bytes per request; redis/memcached: value size
  std::string method = "GET";          // http
  std::vector<std::pair<std::string, std::string>> headers;  // http
  std::string body;                    // http
  int expect_status = 0;               // http: 0 means any 2xx
  OperationMix mix;                    // redis (default PING), memcached (default get=80,set=20)
  uint64_t keys = 1000;                // redis/memcached key space
};

struct TargetSpec {
  std::string url;  // as given, for reports
  Scheme scheme = Scheme::Tcp;
  std::vector<Endpoint> endpoints;  // one, except memcached
  std::string path = "/";           // http
  ProtocolOptions options;
};

// Throws TargetError with a one-line message naming what is wrong and what is allowed.
TargetSpec parse_target(const std::string& url, const ProtocolOptions& options);
// "get=80,set=20" -> weights; throws TargetError.
OperationMix parse_mix(const std::string& text);

}  // namespace faultline::load
