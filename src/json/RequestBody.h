#pragma once
// Reads API request bodies with the rules (and the error wording) of Go's
// encoding/json, which Toxiproxy clients are written against: only the first
// JSON value counts, unknown keys are ignored, keys match case-insensitively,
// null means "leave the default", and a wrong type is a precise error.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace faultline::json {

using Value = nlohmann::ordered_json;

// Throws BadRequestBody ("EOF", "unexpected EOF", "invalid character ...").
Value parse_request_body(std::string_view body);

// Throws BadRequestBody("json: cannot unmarshal <kind> into Go value of type <go_type>")
// unless `value` is an object (or null, when `null_ok`).
void expect_object(const Value& value, std::string_view go_type);

// A member of an object, found the way Go finds struct fields: exact name or
// any letter case, the last occurrence winning. Null counts as absent.
const Value* find_member(const Value& object, std::string_view key);

// Typed readers. `go_field` names the field in errors, e.g. "Proxy.enabled".
std::optional<std::string> read_string(const Value& object, std::string_view key, std::string_view go_field);
std::optional<bool> read_bool(const Value& object, std::string_view key, std::string_view go_field);
std::optional<int64_t> read_int64(const Value& object, std::string_view key, std::string_view go_field);
std::optional<float> read_float32(const Value& object, std::string_view key, std::string_view go_field);

// Throws BadRequestBody("json: cannot unmarshal <kind> into Go struct field <go_field> of type <go_type>").
[[noreturn]] void throw_type_error(const Value& value, std::string_view go_field, std::string_view go_type,
                                   bool with_number_text);

// How Go names a JSON value in an unmarshal error: "string", "number 1.5", "array", ...
std::string describe_for_error(const Value& value, bool with_number_text);

}  // namespace faultline::json
