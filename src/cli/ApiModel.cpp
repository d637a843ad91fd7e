#include "cli/ApiModel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace faultline::cli {
namespace {

std::string string_field(const nlohmann::json& json, const char* key) {
  const auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Toxic parse_toxic(const nlohmann::json& json) {
  Toxic toxic;
  toxic.name = string_field(json, "name");
  toxic.type = string_field(json, "type");
  toxic.stream = string_field(json, "stream");
  if (const auto it = json.find("toxicity"); it != json.end() && it->is_number()) toxic.toxicity = it->get<double>();
  if (const auto it = json.find("attributes"); it != json.end() && it->is_object()) toxic.attributes = *it;
  return toxic;
}

Proxy parse_proxy(const nlohmann::json& json) {
  if (!json.is_object()) throw std::runtime_error("unexpected reply: a proxy is not a JSON object");
  Proxy proxy;
  proxy.name = string_field(json, "name");
  proxy.listen = string_field(json, "listen");
  proxy.upstream = string_field(json, "upstream");
  if (const auto it = json.find("enabled"); it != json.end() && it->is_boolean()) proxy.enabled = it->get<bool>();
  if (const auto it = json.find("toxics"); it != json.end() && it->is_array()) {
    for (const auto& toxic : *it) proxy.toxics.push_back(parse_toxic(toxic));
  }
  if (const auto it = json.find("connections"); it != json.end() && it->is_number()) {
    proxy.connections = it->get<int64_t>();
  }
  return proxy;
}

std::vector<Proxy> parse_proxy_map(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) throw std::runtime_error("unexpected reply: the proxy list is not a JSON object");
  std::vector<Proxy> proxies;
  for (const auto& [key, value] : json.items()) {
    proxies.push_back(parse_proxy(value));
    if (proxies.back().name.empty()) proxies.back().name = key;
  }
  std::sort(proxies.begin(), proxies.end(), [](const Proxy& a, const Proxy& b) { return a.name < b.name; });
  return proxies;
}

std::string format_value(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    // Whole numbers print without a fraction whatever JSON type carried them.
    if (std::isfinite(number) && number == std::trunc(number) && std::fabs(number) < 1e15) {
      return fmt::format("{}", static_cast<int64_t>(number));
    }
    return fmt::format("{}", number);
  }
  return value.dump();
}

std::vector<std::string> attribute_pairs(const nlohmann::json& attributes) {
  std::map<std::string, std::string> sorted;
  for (const auto& [key, value] : attributes.items()) sorted[key] = format_value(value);
  std::vector<std::string> pairs;
  for (const auto& [key, value] : sorted) pairs.push_back(key + "=" + value);
  return pairs;
}

}  // namespace faultline::cli
