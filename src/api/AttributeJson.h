#pragma once
// A toxic attribute's value to and from JSON, as its schema says. Integer
// attributes keep Go's decode errors word for word (Toxiproxy clients match
// on them); the other types word theirs the same way.
#include <string>
#include <string_view>

#include "json/RequestBody.h"
#include "model/Attribute.h"

namespace faultline::api {

// `go_field` names the value in errors: "LatencyToxic.attributes.latency".
AttributeValue decode_attribute(const AttributeSchema& schema, const json::Value& value, std::string_view go_field);
void append_attribute(std::string& out, const AttributeValue& value);

}  // namespace faultline::api
