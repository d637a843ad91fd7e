#include "config/RouteFile.h"

#include <fmt/format.h>

#include <set>

#include "model/ToxicSpec.h"
#include "net/SocketAddress.h"

namespace faultline {
namespace {

using json::Value;

class RouteReader {
 public:
  RouteReader(const std::string& origin, size_t index, const Value& route) : origin_(origin), index_(index), route_(route) {}

  [[noreturn]] void fail(const std::string& field, const Value& value, const std::string& allowed) const {
    const std::string shown = value.is_null() ? "missing" : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    throw ConfigError(fmt::format("{}: route #{}{}: field \"{}\" is {} ({})", origin_, index_ + 1, port_ ? fmt::format(" (localPort {})", port_) : "",
                                  field, shown, allowed));
  }

  const Value& field(const char* name) const {
    static const Value missing;
    return route_.contains(name) ? route_[name] : missing;
  }

  uint16_t local_port() {
    const Value& v = field("localPort");
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 65535)
      fail("localPort", v, "a whole number from 1 to 65535");
    port_ = static_cast<uint16_t>(v.get<int64_t>());
    return port_;
  }

  // "ip:port" with an IP address: a host name would put DNS among the
  // faults being tested, so (as chaos-proxy) it is refused with a hint.
  std::string upstream() const {
    const Value& v = field("upstream");
    const std::string allowed = "an IP address and port, as \"127.0.0.1:9090\" or \"[::1]:9090\"";
    if (!v.is_string() || v.get<std::string>().empty()) fail("upstream", v, allowed);
    const std::string text = v.get<std::string>();
    std::string error;
    const auto hp = net::split_host_port(text, error);
    if (!hp) fail("upstream", v, allowed);
    const auto port = net::parse_port(hp->port, error);
    if (!port || *port == 0) fail("upstream", v, allowed + "; the port from 1 to 65535");
    if (!net::SocketAddress::from_ip(hp->host, *port))
      fail("upstream", v, allowed + "; hint: host names are not accepted, resolve it first (e.g. localhost is 127.0.0.1)");
    return text;
  }

  double drop_rate() const {
    const Value& v = field("dropRate");
    if (v.is_null()) return 0;
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) fail("dropRate", v, "a number from 0.0 to 1.0");
    return v.get<double>();
  }

  int64_t latency_ms() const {
    const Value& v = field("latencyMs");
    if (v.is_null()) return 0;
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 31'536'000'000)
      fail("latencyMs", v, "a whole number of milliseconds, 0 or more");
    return v.get<int64_t>();
  }

 private:
  const std::string& origin_;
  size_t index_;
  const Value& route_;
  uint16_t port_ = 0;
};

ToxicSpec toxic(const char* type_name, const char* name, Direction direction) {
  ToxicSpec t = default_toxic_spec(*find_toxic_type(type_name));
  t.name = name;
  t.direction = direction;
  t.stream = direction == Direction::Upstream ? "upstream" : "downstream";
  return t;
}

void set_attribute(ToxicSpec& t, const char* name, AttributeValue value) {
  const auto& schema = t.toxic_type().attributes;
  for (size_t i = 0; i < schema.size(); ++i)
    if (schema[i].name == name) t.attributes[i] = std::move(value);
}

}  // namespace

bool is_route_file(const Value& doc) {
  return doc.is_array() && !doc.empty() && doc[0].is_object() && doc[0].contains("localPort");
}

LoadedConfig routes_to_proxies(const Value& doc, const std::string& origin) {
  LoadedConfig out;
  std::set<uint16_t> ports;
  for (size_t i = 0; i < doc.size(); ++i) {
    if (!doc[i].is_object()) throw ConfigError(fmt::format("{}: route #{}: must be an object with localPort and upstream", origin, i + 1));
    RouteReader r(origin, i, doc[i]);
    const uint16_t port = r.local_port();
    if (!ports.insert(port).second) r.fail("localPort", doc[i]["localPort"], "each route needs its own port; this one is used twice");
    PopulateEntry entry;
    entry.spec = ProxySpec{fmt::format("route_{}", port), fmt::format("127.0.0.1:{}", port), r.upstream(), true};
    const double rate = r.drop_rate();
    const int64_t latency = r.latency_ms();
    for (const auto& [key, value] : doc[i].items())
      if (key != "localPort" && key != "upstream" && key != "dropRate" && key != "latencyMs")
        out.warnings.push_back(fmt::format("{}: route #{}: unknown field \"{}\" ignored", origin, i + 1, key));
    if (rate > 0) {
      ToxicSpec drop = toxic("drop", "drop", Direction::Upstream);
      set_attribute(drop, "mode", std::string("closed"));
      drop.toxicity = static_cast<float>(rate);
      entry.toxics.push_back(std::move(drop));
    }
    if (latency > 0) {
      ToxicSpec lag = toxic("latency", "latency", Direction::Downstream);
      set_attribute(lag, "latency", latency);
      entry.toxics.push_back(std::move(lag));
    }
    out.proxies.push_back(std::move(entry));
  }
  return out;
}

}  // namespace faultline
