#pragma once
// What a user configures for one toxic, independent of any connection.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/Clock.h"
#include "model/ClientNetworks.h"
#include "model/Direction.h"
#include "model/ToxicType.h"

namespace faultline {

struct ToxicSpec {
  std::string name;
  const ToxicType* type = nullptr;  // set by decoding; null reads as noop
  std::string stream = "downstream";  // the text the client sent, echoed back as is
  Direction direction = Direction::Downstream;
  float toxicity = 1.0f;
  // One value per attribute of the type, in the schema's order (that order is part of the JSON shape).
  std::vector<AttributeValue> attributes;
  // A timed toxic removes itself `duration` after it was created or last
  // given a duration. Only then does its JSON carry duration_ms and expires_in_ms.
  std::optional<Nanos> duration;
  // Only connections from these source networks get the toxic (faultline
  // only; in the JSON only when set). Empty: every connection.
  ClientNetworks clients;
  TimePoint expires_at{};   // set by the registry
  int64_t expires_in_ms = 0;  // filled in when the registry shows the toxic

  const ToxicType& toxic_type() const { return type ? *type : noop_toxic_type(); }
  std::string_view type_name() const { return toxic_type().name; }

  // A typed read through the key constant the toxic's file declares.
  template <AttributeType T>
  const typename AttributeKey<T>::value_type& get(AttributeKey<T> key) const {
    return std::get<typename AttributeKey<T>::value_type>(attributes.at(key.index));
  }
  // By name, for tests and tools; nullptr when the type has no such attribute.
  const AttributeValue* find(std::string_view key) const {
    const auto& schema = toxic_type().attributes;
    for (size_t i = 0; i < schema.size() && i < attributes.size(); ++i)
      if (schema[i].name == key) return &attributes[i];
    return nullptr;
  }
  int64_t integer(std::string_view key) const {
    const AttributeValue* v = find(key);
    return v && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : 0;
  }
};

// A fresh spec of `type` with every attribute at its default.
inline ToxicSpec default_toxic_spec(const ToxicType& type) {
  ToxicSpec spec;
  spec.type = &type;
  spec.attributes = type.defaults();
  return spec;
}

}  // namespace faultline
