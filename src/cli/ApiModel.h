#pragma once
// The proxy and toxic objects as the CLI reads them from the API. Parsing
// is lenient on purpose: unknown keys (Toxiproxy's "Logger":{}) are ignored
// and numbers may be integers or floats, so the CLI works against faultline
// and the reference server alike.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace faultline::cli {

struct Toxic {
  std::string name;
  std::string type;
  std::string stream;
  double toxicity = 1.0;
  nlohmann::json attributes = nlohmann::json::object();
};

struct Proxy {
  std::string name;
  std::string listen;
  std::string upstream;
  bool enabled = false;
  std::vector<Toxic> toxics;
  // Only when the server reports live connections (faultline's /faultline/stats).
  std::optional<int64_t> connections;
};

Toxic parse_toxic(const nlohmann::json& json);
Proxy parse_proxy(const nlohmann::json& json);
// `GET /proxies` body: an object keyed by name. Sorted by name.
std::vector<Proxy> parse_proxy_map(const std::string& body);

// An attribute value as a person reads it: 1000 not 1000.0, strings bare.
std::string format_value(const nlohmann::json& value);
// "jitter=50 latency=1000", keys sorted so the output is stable.
std::vector<std::string> attribute_pairs(const nlohmann::json& attributes);

}  // namespace faultline::cli
