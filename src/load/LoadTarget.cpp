#include "load/LoadTarget.h"

#include <charconv>

#include "load/Codec.h"

namespace faultline::load {
namespace {

uint16_t parse_port(std::string_view text, const std::string& url) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
    throw TargetError("invalid port \"" + std::string(text) + "\" in target " + url + " (allowed: 1 to 65535)");
  return static_cast<uint16_t>(value);
}

Endpoint parse_endpoint(std::string_view text, const std::string& url) {
  // host:port, or [v6]:port
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw TargetError("invalid address \"" + std::string(text) + "\" in target " + url + " (allowed: [v6 address]:port)");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      throw TargetError("missing port in \"" + std::string(text) + "\" of target " + url + " (allowed: host:port)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  return Endpoint{std::string(host), parse_port(port, url)};
}

}  // namespace

OperationMix parse_mix(const std::string& text) {
  OperationMix mix;
  std::string_view rest(text);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view op = item.substr(0, eq);
    int weight = -1;
    if (eq != std::string_view::npos) {
      const std::string_view w = item.substr(eq + 1);
      auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), weight);
      if (ec != std::errc() || end != w.data() + w.size()) weight = -1;
    }
    if ((op != "get" && op != "set") || weight < 0 || weight > 1000000)
      throw TargetError("invalid --mix item \"" + std::string(item) + "\" (allowed: get=N,set=M with weights 0 to 1000000)");
    (op == "get" ? mix.get : mix.set) = weight;
  }
  if (mix.get + mix.set == 0) throw TargetError("invalid --mix \"" + text + "\": the weights add up to 0");
  return mix;
}

TargetSpec parse_target(const std::string& url, const ProtocolOptions& options) {
  TargetSpec t;
  t.url = url;
  t.options = options;
  const size_t sep = url.find("://");
  if (sep == std::string::npos)
    throw TargetError("target \"" + url + "\" has no scheme (allowed: tcp://, http://, redis://, memcached://)");
  const std::string scheme = url.substr(0, sep);
  std::string rest = url.substr(sep + 3);
  if (scheme == "tcp") t.scheme = Scheme::Tcp;
  else if (scheme == "http") t.scheme = Scheme::Http;
  else if (scheme == "redis") t.scheme = Scheme::Redis;
  else if (scheme == "memcached") t.scheme = Scheme::Memcached;
  else if (scheme == "https")
    throw TargetError("target " + url + ": https is not supported yet (allowed: tcp://, http://, redis://, memcached://)");
  else
    throw TargetError("unknown scheme \"" + scheme + "\" in target " + url + " (allowed: tcp://, http://, redis://, memcached://)");

  if (t.scheme == Scheme::Http) {
    const size_t slash = rest.find('/');
    if (slash != std::string::npos) {
      t.path = rest.substr(slash);
      rest = rest.substr(0, slash);
    }
  } else if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 != rest.size()) throw TargetError("target " + url + ": only http:// targets take a path");
    rest.pop_back();
  }
  std::string_view hosts(rest);
  while (!hosts.empty()) {
    const size_t comma = hosts.find(',');
    t.endpoints.push_back(parse_endpoint(hosts.substr(0, comma), url));
    hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
  }
  if (t.endpoints.empty()) throw TargetError("target " + url + " names no host:port");
  if (t.endpoints.size() > 1 && t.scheme != Scheme::Memcached)
    throw TargetError("target " + url + ": only memcached:// takes several servers (h1:p,h2:p)");
  if (t.endpoints.size() > 64) throw TargetError("target " + url + ": at most 64 servers");
  if (t.scheme == Scheme::Tcp && (options.payload == 0 || options.payload > 16 * 1024 * 1024))
    throw TargetError("invalid --payload " + std::to_string(options.payload) + " (allowed: 1 to 16777216 bytes)");
  if (t.scheme == Scheme::Memcached && t.options.mix.get + t.options.mix.set == 0) t.options.mix = OperationMix{80, 20};
  return t;
}

std::unique_ptr<Codec> make_codec(const TargetSpec& target, uint64_t seed) {
  switch (target.scheme) {
    case Scheme::Tcp: return make_tcp_echo_codec(target, seed);
    case Scheme::Http: return make_http_codec(target, seed);
    case Scheme::Redis: return make_redis_codec(target, seed);
    case Scheme::Memcached: return make_memcached_codec(target, seed);
  }
  return nullptr;
}

}  // namespace faultline::load
