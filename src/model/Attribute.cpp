#include "model/Attribute.h"

#include <arpa/inet.h>

#include <cmath>
#include <fmt/format.h>

namespace faultline {
namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

size_t element_count(const AttributeValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return s->size();
  if (const auto* l = std::get_if<std::vector<std::string>>(&value)) return l->size();
  if (const auto* m = std::get_if<StringMap>(&value)) return m->size();
  return 0;
}

AttributeSchema base(std::string_view name, AttributeType type, AttributeValue default_value, std::string_view help) {
  AttributeSchema s;
  s.name = name;
  s.type = type;
  s.default_value = std::move(default_value);
  s.help = help;
  return s;
}

}  // namespace

std::string_view to_string(AttributeType type) {
  switch (type) {
    case AttributeType::Integer: return "integer";
    case AttributeType::Number: return "number";
    case AttributeType::String: return "string";
    case AttributeType::Duration: return "duration";
    case AttributeType::Enum: return "enum";
    case AttributeType::List: return "list";
    case AttributeType::CidrList: return "CIDR list";
    case AttributeType::Map: return "map";
  }
  return "?";
}

std::string describe_value(const AttributeValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* l = std::get_if<std::vector<std::string>>(&value)) return "[" + join(*l, ", ") + "]";
  std::string out;
  for (const auto& [k, v] : std::get<StringMap>(value)) out += (out.empty() ? "" : ", ") + k + ": " + v;
  return "{" + out + "}";
}

std::string AttributeSchema::allowed_text() const {
  switch (type) {
    case AttributeType::Integer:
    case AttributeType::Duration: {
      if (min == INT64_MIN && max == INT64_MAX) return "any whole number" + (negative.empty() ? "" : "; " + negative);
      std::string text = fmt::format("{} to {}", min, max);
      if (type == AttributeType::Duration) text += fmt::format(" {} (or a text such as \"250ms\")", unit);
      return negative.empty() ? text : text + "; " + negative;
    }
    case AttributeType::Number: return fmt::format("{} to {}", min_number, max_number);
    case AttributeType::String: return fmt::format("text of at most {} bytes", max);
    case AttributeType::Enum: return "one of " + join(choices, ", ");
    case AttributeType::List: return fmt::format("list of at most {} texts", max);
    case AttributeType::CidrList: return fmt::format("list of at most {} networks (\"10.0.0.0/8\", \"::1\")", max);
    case AttributeType::Map: return fmt::format("object of at most {} text values", max);
  }
  return "";
}

std::optional<std::string> AttributeSchema::check(std::string_view toxic_type, const AttributeValue& value) const {
  if (auto problem = check_shape(toxic_type, value)) return problem;
  if (!validate) return std::nullopt;
  if (auto problem = validate(value)) return fmt::format("invalid value for {} attribute {}: {}", toxic_type, name, *problem);
  return std::nullopt;
}

std::optional<std::string> AttributeSchema::check_shape(std::string_view toxic_type, const AttributeValue& value) const {
  switch (type) {
    case AttributeType::Integer:
    case AttributeType::Duration: {
      const int64_t v = std::get<int64_t>(value);
      if (v >= min && v <= max) return std::nullopt;
      // "must be 0 or more" reads better than a range from 0 when only the sign is wrong.
      if (min == 0 && v < 0)
        return fmt::format("invalid value for {} attribute {}: {} (must be 0 or more, in {}; at most {})", toxic_type,
                           name, v, unit, max);
      return fmt::format("invalid value for {} attribute {}: {} (allowed: {} to {} {}{}{})", toxic_type, name, v, min,
                         max, unit, negative.empty() ? "" : "; ", negative);
    }
    case AttributeType::Number: {
      const double v = std::get<double>(value);
      if (std::isfinite(v) && v >= min_number && v <= max_number) return std::nullopt;
      return fmt::format("invalid value for {} attribute {}: {} (allowed: {})", toxic_type, name, v, allowed_text());
    }
    case AttributeType::Enum: {
      const auto& v = std::get<std::string>(value);
      for (const auto& c : choices)
        if (c == v) return std::nullopt;
      return fmt::format("invalid value for {} attribute {}: \"{}\" (allowed: {})", toxic_type, name, v, allowed_text());
    }
    case AttributeType::CidrList:
      for (const auto& item : std::get<std::vector<std::string>>(value))
        if (auto problem = check_cidr(item))
          return fmt::format("invalid value for {} attribute {}: \"{}\" ({})", toxic_type, name, item, *problem);
      [[fallthrough]];
    case AttributeType::String:
    case AttributeType::List:
    case AttributeType::Map:
      if (element_count(value) <= static_cast<size_t>(max)) return std::nullopt;
      return fmt::format("invalid value for {} attribute {}: {} items or bytes (allowed: {})", toxic_type, name,
                         element_count(value), allowed_text());
  }
  return std::nullopt;
}

AttributeSchema integer_attribute(std::string_view name, int64_t min, int64_t max, std::string_view unit,
                                  std::string_view help) {
  AttributeSchema s = base(name, AttributeType::Integer, int64_t{0}, help);
  s.min = min, s.max = max, s.unit = unit;
  return s;
}

AttributeSchema duration_attribute(std::string_view name, int64_t min, int64_t max, std::string_view unit,
                                   std::string_view help) {
  AttributeSchema s = integer_attribute(name, min, max, unit, help);
  s.type = AttributeType::Duration;
  return s;
}

AttributeSchema number_attribute(std::string_view name, double min, double max, std::string_view help) {
  AttributeSchema s = base(name, AttributeType::Number, 0.0, help);
  s.min_number = min, s.max_number = max;
  return s;
}

AttributeSchema string_attribute(std::string_view name, size_t max_length, std::string_view help) {
  AttributeSchema s = base(name, AttributeType::String, std::string(), help);
  s.max = static_cast<int64_t>(max_length);
  return s;
}

AttributeSchema enum_attribute(std::string_view name, std::vector<std::string> choices, std::string_view help) {
  AttributeSchema s = base(name, AttributeType::Enum, choices.empty() ? std::string() : choices.front(), help);
  s.choices = std::move(choices);
  return s;
}

AttributeSchema list_attribute(std::string_view name, size_t max_items, std::string_view help) {
  AttributeSchema s = base(name, AttributeType::List, std::vector<std::string>{}, help);
  s.max = static_cast<int64_t>(max_items);
  return s;
}

AttributeSchema cidr_list_attribute(std::string_view name, size_t max_items, std::string_view help) {
  AttributeSchema s = list_attribute(name, max_items, help);
  s.type = AttributeType::CidrList;
  return s;
}

AttributeSchema map_attribute(std::string_view name, size_t max_items, std::string_view help) {
  AttributeSchema s = base(name, AttributeType::Map, StringMap{}, help);
  s.max = static_cast<int64_t>(max_items);
  return s;
}

std::optional<std::string> check_cidr(std::string_view text) {
  const std::string s(text);
  const size_t slash = s.find('/');
  const std::string address = s.substr(0, slash);
  unsigned char buffer[16];
  int bits = 0;
  if (::inet_pton(AF_INET, address.c_str(), buffer) == 1) bits = 32;
  else if (::inet_pton(AF_INET6, address.c_str(), buffer) == 1) bits = 128;
  else return "not an IPv4 or IPv6 address";
  if (slash == std::string::npos) return std::nullopt;
  const std::string prefix = s.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3 || prefix.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(prefix) > bits)
    return fmt::format("the prefix length must be a number from 0 to {}", bits);
  return std::nullopt;
}

std::optional<int64_t> parse_duration_text(std::string_view text) {
  // A sequence of <decimal><unit>, as Go's time.ParseDuration reads it.
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return 0;
  double total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) ++digits;
    if (digits == 0 || digits > 30) return std::nullopt;
    const double number = std::strtod(std::string(text.substr(0, digits)).c_str(), nullptr);
    text.remove_prefix(digits);
    const std::pair<std::string_view, double>* unit = nullptr;
    for (const auto& u : kUnits)  // longest match first: "ms" before "m"
      if (text.substr(0, u.first.size()) == u.first && (!unit || u.first.size() > unit->first.size())) unit = &u;
    if (!unit) return std::nullopt;
    text.remove_prefix(unit->first.size());
    total += number * unit->second;
    if (total > 9.2e18) return std::nullopt;
  }
  return static_cast<int64_t>(negative ? -total : total);
}

}  // namespace faultline
