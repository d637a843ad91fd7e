#include "api/AttributeJson.h"

#include <cmath>

#include <fmt/format.h>

#include "json/JsonWriter.h"
#include "model/ApiError.h"

namespace faultline::api {
namespace {

int64_t nanos_per_unit(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  return 1'000'000;
}

std::string text(const json::Value& value, std::string_view go_field) {
  if (!value.is_string()) json::throw_type_error(value, go_field, "string", false);
  return value.get<std::string>();
}

std::vector<std::string> text_list(const json::Value& value, std::string_view go_field) {
  if (!value.is_array()) json::throw_type_error(value, go_field, "[]string", false);
  std::vector<std::string> items;
  for (const auto& item : value) items.push_back(text(item, go_field));
  return items;
}

}  // namespace

AttributeValue decode_attribute(const AttributeSchema& schema, const json::Value& value, std::string_view go_field) {
  switch (schema.type) {
    case AttributeType::Integer: {
      json::Value holder = json::Value::object();
      holder["v"] = value;
      return *json::read_int64(holder, "v", go_field);
    }
    case AttributeType::Duration: {
      if (!value.is_string()) return decode_attribute(integer_attribute(schema.name, 0, 0, "", ""), value, go_field);
      const auto nanos = parse_duration_text(value.get<std::string>());
      if (!nanos)
        throw ApiError(400, fmt::format("invalid value for attribute {}: \"{}\" is not a duration (e.g. \"250ms\", "
                                        "\"1.5s\", or a whole number of {})",
                                        schema.name, value.get<std::string>(), schema.unit));
      return *nanos / nanos_per_unit(schema.unit);
    }
    case AttributeType::Number:
      if (!value.is_number()) json::throw_type_error(value, go_field, "float64", false);
      if (!std::isfinite(value.get<double>())) json::throw_type_error(value, go_field, "float64", true);
      return value.get<double>();
    case AttributeType::String:
    case AttributeType::Enum: return text(value, go_field);
    case AttributeType::List:
    case AttributeType::CidrList: return text_list(value, go_field);
    case AttributeType::Map: {
      if (!value.is_object()) json::throw_type_error(value, go_field, "map[string]string", false);
      StringMap map;
      for (auto it = value.begin(); it != value.end(); ++it) map.emplace_back(it.key(), text(it.value(), go_field));
      return map;
    }
  }
  return schema.default_value;
}

void append_attribute(std::string& out, const AttributeValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return json::append_int(out, *i);
  if (const auto* d = std::get_if<double>(&value)) {
    out += fmt::format("{}", *d);
    return;
  }
  if (const auto* s = std::get_if<std::string>(&value)) return json::append_string(out, *s);
  if (const auto* l = std::get_if<std::vector<std::string>>(&value)) {
    out += '[';
    for (size_t i = 0; i < l->size(); ++i) {
      if (i) out += ',';
      json::append_string(out, (*l)[i]);
    }
    out += ']';
    return;
  }
  json::ObjectWriter obj(out);
  for (const auto& [k, v] : std::get<StringMap>(value)) obj.field(k, v);
}

}  // namespace faultline::api
