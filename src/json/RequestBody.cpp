#include "json/RequestBody.h"

#include <strings.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "json/BoundedParse.h"
#include "model/ApiError.h"

namespace faultline::json {
namespace {

// Go's encoding/json refuses documents nested deeper than this.
constexpr size_t kMaxRequestDepth = 10000;

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Go reports the offending character and what it expected at that point.
std::string syntax_error_text(std::string_view body, size_t offset) {
  if (offset >= body.size()) return "unexpected EOF";
  const char bad = body[offset];
  char before = 0;
  for (size_t i = offset; i > 0; --i) {
    const char c = body[i - 1];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      before = c;
      break;
    }
  }
  const char* expectation = "looking for beginning of value";
  if (before == '{' || (before == ',' && body.find_last_of("{[", offset) != std::string_view::npos &&
                        body[body.find_last_of("{[", offset)] == '{'))
    expectation = "looking for beginning of object key string";
  else if (before == '"')
    expectation = "after object key";
  return fmt::format("invalid character '{}' {}", bad, expectation);
}


[[noreturn]] void type_error(const Value& value, std::string_view go_field, std::string_view go_type,
                             bool number_text) {
  throw BadRequestBody(fmt::format("json: cannot unmarshal {} into Go struct field {} of type {}",
                                   describe_for_error(value, number_text), go_field, go_type));
}

}  // namespace

void throw_type_error(const Value& value, std::string_view go_field, std::string_view go_type, bool with_number_text) {
  type_error(value, go_field, go_type, with_number_text);
}

std::string describe_for_error(const Value& value, bool with_number_text) {
  switch (value.type()) {
    case Value::value_t::string: return "string";
    case Value::value_t::boolean: return "bool";
    case Value::value_t::array: return "array";
    case Value::value_t::object: return "object";
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
    case Value::value_t::number_float: return with_number_text ? "number " + value.dump() : "number";
    default: return "null";
  }
}

Value parse_request_body(std::string_view body) {
  if (is_blank(body)) throw BadRequestBody("EOF");
  try {
    // Only the first value counts and what follows is ignored, as in Go.
    return parse_bounded(body, kMaxRequestDepth, false);
  } catch (const JsonTooDeep&) {
    throw BadRequestBody("exceeded max depth");  // Go's words, at Go's limit
  } catch (const JsonNumberOutOfRange& e) {
    throw BadRequestBody(e.what());  // a client's mistake: 400, not 500
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the position of the last character read.
    const size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    const std::string what = e.what();
    if (what.find("end of input") != std::string::npos || offset >= body.size())
      throw BadRequestBody("unexpected EOF");
    throw BadRequestBody(syntax_error_text(body, offset));
  }
}

void expect_object(const Value& value, std::string_view go_type) {
  if (value.is_object() || value.is_null()) return;
  throw BadRequestBody(fmt::format("json: cannot unmarshal {} into Go value of type {}",
                                   describe_for_error(value, false), go_type));
}

const Value* find_member(const Value& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const Value* found = nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() == key.size() && strncasecmp(k.data(), key.data(), key.size()) == 0) found = &it.value();
  }
  if (found && found->is_null()) return nullptr;
  return found;
}

std::optional<std::string> read_string(const Value& object, std::string_view key, std::string_view go_field) {
  const Value* v = find_member(object, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) type_error(*v, go_field, "string", false);
  return v->get<std::string>();
}

std::optional<bool> read_bool(const Value& object, std::string_view key, std::string_view go_field) {
  const Value* v = find_member(object, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) type_error(*v, go_field, "bool", false);
  return v->get<bool>();
}

std::optional<int64_t> read_int64(const Value& object, std::string_view key, std::string_view go_field) {
  const Value* v = find_member(object, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer() && !v->is_number_unsigned()) return v->get<int64_t>();
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(u);
  }
  type_error(*v, go_field, "int64", v->is_number());
}

std::optional<float> read_float32(const Value& object, std::string_view key, std::string_view go_field) {
  const Value* v = find_member(object, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) type_error(*v, go_field, "float32", false);
  const double d = v->get<double>();
  if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) type_error(*v, go_field, "float32", true);
  return static_cast<float>(d);
}

}  // namespace faultline::json
