#include "api/ToxicTypesJson.h"

#include <nlohmann/json.hpp>

#include "model/ToxicType.h"

namespace faultline::api {

namespace {

nlohmann::ordered_json value_json(const AttributeValue& v) {
  return std::visit([](const auto& x) -> nlohmann::ordered_json {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, StringMap>) {
      nlohmann::ordered_json object = nlohmann::ordered_json::object();
      for (const auto& [k, value] : x) object[k] = value;
      return object;
    } else {
      return x;
    }
  }, v);
}

}  // namespace

std::string toxic_types_json() {
  auto types = nlohmann::ordered_json::array();
  for (const ToxicType& type : all_toxic_types()) {
    auto attributes = nlohmann::ordered_json::array();
    for (const AttributeSchema& a : type.attributes) {
      nlohmann::ordered_json j;
      j["name"] = a.name;
      j["type"] = std::string(to_string(a.type));
      if (!a.unit.empty()) j["unit"] = a.unit;
      j["default"] = value_json(a.default_value);
      if (a.type == AttributeType::Integer || a.type == AttributeType::Duration) {
        j["min"] = a.min;
        j["max"] = a.max;
      } else if (a.type == AttributeType::Number) {
        j["min"] = a.min_number;
        j["max"] = a.max_number;
      }
      if (!a.choices.empty()) j["choices"] = a.choices;
      j["allowed"] = a.allowed_text();
      j["help"] = a.help;
      attributes.push_back(std::move(j));
    }
    types.push_back({{"name", type.name}, {"help", type.help}, {"attributes", std::move(attributes)}});
  }
  return types.dump() + "\n";
}

}  // namespace faultline::api
