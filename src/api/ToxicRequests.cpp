#include "api/ToxicRequests.h"

#include <fmt/format.h>

#include "api/AttributeJson.h"
#include "model/ApiError.h"
#include "model/Names.h"

namespace faultline::api {
namespace {

constexpr const char* kToxicGoType = "toxics.ToxicWrapper";

// A year: the longest duration any field accepts.
constexpr Nanos kMaxDuration = std::chrono::hours(24 * 365);

[[noreturn]] void refuse_value(const char* field, const json::Value& value, const std::string& allowed) {
  throw ApiError(400, fmt::format("invalid value for {}: {} ({})", field,
                                  value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), allowed));
}

constexpr size_t kMaxClientNetworks = 256;

// `clients`: a list of networks ("10.0.0.0/8", "::1"); an empty list means
// every client again.
std::optional<ClientNetworks> read_clients(const json::Value& doc) {
  const json::Value* v = json::find_member(doc, "clients");
  if (!v) return std::nullopt;
  const std::string allowed = fmt::format("allowed: a list of up to {} addresses or networks, as \"127.0.0.2\", \"10.0.0.0/8\", \"::1\"",
                                          kMaxClientNetworks);
  if (!v->is_array() || v->size() > kMaxClientNetworks) refuse_value("clients", *v, allowed);
  std::vector<std::string> written;
  for (const auto& item : *v) {
    if (!item.is_string() || parse_client_network(item.get<std::string>()) == std::nullopt)
      throw ApiError(400, fmt::format("invalid value in clients: {} ({})", item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                      allowed));
    written.push_back(item.get<std::string>());
  }
  return ClientNetworks(std::move(written));
}

}  // namespace

std::optional<Nanos> read_duration_ms(const json::Value& doc, const char* field, Nanos min) {
  const json::Value* v = json::find_member(doc, field);
  if (!v) return std::nullopt;
  const std::string allowed = fmt::format("allowed: whole milliseconds from {} to {}, or a text such as \"250ms\", \"15s\", \"2m\"",
                                          std::chrono::duration_cast<Millis>(min).count(),
                                          std::chrono::duration_cast<Millis>(kMaxDuration).count());
  Nanos value{0};
  if (v->is_number_integer()) {
    const int64_t ms = v->get<int64_t>();
    if (ms < 0 || ms > std::chrono::duration_cast<Millis>(kMaxDuration).count()) refuse_value(field, *v, allowed);
    value = Millis(ms);
  } else if (v->is_string()) {
    const auto nanos = parse_duration_text(v->get<std::string>());
    if (!nanos) refuse_value(field, *v, allowed);
    value = Nanos(*nanos);
  } else {
    refuse_value(field, *v, allowed);
  }
  if (value < min || value > kMaxDuration) refuse_value(field, *v, allowed);
  return value;
}

void decode_toxic_attributes(const json::Value& attributes, ToxicSpec& spec) {
  const ToxicType& type = spec.toxic_type();
  if (attributes.is_null()) return;
  if (!attributes.is_object())
    throw BadRequestBody(fmt::format("json: cannot unmarshal {} into Go value of type toxics.{}",
                                     json::describe_for_error(attributes, false), type.go_struct));
  // Every value is decoded (type errors first, in schema order), then every value is checked.
  for (size_t i = 0; i < type.attributes.size(); ++i) {
    const AttributeSchema& schema = type.attributes[i];
    if (const json::Value* value = json::find_member(attributes, schema.name))
      spec.attributes[i] = decode_attribute(schema, *value, fmt::format("{}.attributes.{}", type.go_struct, schema.name));
  }
  for (size_t i = 0; i < type.attributes.size(); ++i)
    if (auto problem = type.attributes[i].check(type.name, spec.attributes[i])) throw ApiError(400, *problem);
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
  const ToxicType* toxic_type = find_toxic_type(type.value_or(""));
  if (!toxic_type) throw ApiError(400, "invalid toxic type");
  spec.type = toxic_type;
  spec.attributes = toxic_type->defaults();
  if (exists(spec.name)) throw ApiError(409, "toxic already exists");
  spec.toxicity = toxicity.value_or(1.0f);
  if (const json::Value* attrs = json::find_member(doc, "attributes")) decode_toxic_attributes(*attrs, spec);
  spec.duration = read_duration_ms(doc, "duration_ms", Millis(1));  // a timed toxic (faultline only)
  if (auto clients = read_clients(doc)) spec.clients = std::move(*clients);
  return spec;
}

ToxicPatch decode_toxic_update(const std::string& body, const ToxicSpec& current) {
  const json::Value doc = json::parse_request_body(body);
  json::expect_object(doc, kToxicGoType);
  ToxicPatch patch;
  patch.toxicity = json::read_float32(doc, "toxicity", "ToxicWrapper.toxicity");
  patch.duration = read_duration_ms(doc, "duration_ms", Millis(1));
  patch.clients = read_clients(doc);
  if (const json::Value* attrs = json::find_member(doc, "attributes")) {
    ToxicSpec merged = current;
    decode_toxic_attributes(*attrs, merged);
    patch.attributes = merged.attributes;
  }
  return patch;
}

}  // namespace faultline::api
