#include "api/ToxicRequests.h"

#include <fmt/format.h>

#include "model/ApiError.h"
#include "model/Names.h"

namespace faultline::api {
namespace {

constexpr const char* kToxicGoType = "toxics.ToxicWrapper";

}  // namespace

void decode_toxic_attributes(const json::Value& attributes, ToxicSpec& spec) {
  const ToxicTypeInfo& info = toxic_type_info(spec.kind);
  if (attributes.is_null()) return;
  if (!attributes.is_object())
    throw BadRequestBody(fmt::format("json: cannot unmarshal {} into Go value of type toxics.{}",
                                     json::describe_for_error(attributes, false), info.go_struct));
  for (const auto& attribute : info.attributes) {
    const std::string field = fmt::format("{}.attributes.{}", info.go_struct, attribute.name);
    if (auto value = json::read_int64(attributes, attribute.name, field)) {
      for (auto& [k, v] : spec.attributes)
        if (k == attribute.name) v = *value;
    }
  }
  for (const auto& [key, value] : spec.attributes)
    if (auto problem = check_toxic_attribute(spec.kind, key, value)) throw ApiError(400, *problem);
}

ToxicSpec decode_toxic_create(const std::string& body, const std::function<bool(const std::string&)>& exists) {
  return decode_toxic_create(json::parse_request_body(body), exists);
}

ToxicSpec decode_toxic_create(const json::Value& doc, const std::function<bool(const std::string&)>& exists) {
  json::expect_object(doc, kToxicGoType);
  ToxicSpec spec;
  const auto name = json::read_string(doc, "name", "ToxicWrapper.name");
  const auto type = json::read_string(doc, "type", "ToxicWrapper.type");
  const auto stream = json::read_string(doc, "stream", "ToxicWrapper.stream");
  const auto toxicity = json::read_float32(doc, "toxicity", "ToxicWrapper.toxicity");

  spec.stream = stream.value_or("downstream");
  const auto direction = parse_direction(spec.stream);
  if (!direction) throw ApiError(400, "stream was invalid, can be either upstream or downstream");
  spec.direction = *direction;
  spec.name = name.value_or("");
  if (spec.name.empty()) spec.name = type.value_or("") + "_" + spec.stream;
  if (auto problem = check_name_length("toxic", spec.name)) throw ApiError(400, *problem);
  const auto kind = parse_toxic_kind(type.value_or(""));
  if (!kind) throw ApiError(400, "invalid toxic type");
  spec.kind = *kind;
  if (exists(spec.name)) throw ApiError(409, "toxic already exists");
  spec.toxicity = toxicity.value_or(1.0f);
  for (const auto& attribute : toxic_type_info(spec.kind).attributes)
    spec.attributes.emplace_back(std::string(attribute.name), 0);
  if (const json::Value* attrs = json::find_member(doc, "attributes")) decode_toxic_attributes(*attrs, spec);
  return spec;
}

ToxicPatch decode_toxic_update(const std::string& body, const ToxicSpec& current) {
  const json::Value doc = json::parse_request_body(body);
  json::expect_object(doc, kToxicGoType);
  ToxicPatch patch;
  patch.toxicity = json::read_float32(doc, "toxicity", "ToxicWrapper.toxicity");
  if (const json::Value* attrs = json::find_member(doc, "attributes")) {
    ToxicSpec merged = current;
    decode_toxic_attributes(*attrs, merged);
    patch.attributes = merged.attributes;
  }
  return patch;
}

}  // namespace faultline::api
