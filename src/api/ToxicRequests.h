#pragma once
// Decoding of toxic create and update bodies, in Toxiproxy's order of checks.
#include <functional>
#include <string>

#include "control/Registry.h"
#include "json/RequestBody.h"
#include "model/ToxicSpec.h"

namespace faultline::api {

// `exists` tells whether a toxic name is taken on the proxy; checked after the
// type and before the attributes, as Toxiproxy does.
ToxicSpec decode_toxic_create(const std::string& body, const std::function<bool(const std::string&)>& exists);
// The same for a document already parsed (config files decode toxics here too).
ToxicSpec decode_toxic_create(const json::Value& doc, const std::function<bool(const std::string&)>& exists);
// Decodes a toxic's attributes object (absent keys stay as in `spec`).
void decode_toxic_attributes(const json::Value& attributes, ToxicSpec& spec);
ToxicPatch decode_toxic_update(const std::string& body, const ToxicSpec& current);

// A duration field: whole milliseconds, or a text such as "250ms", "15s", "2m",
// from `min` to a year. Nothing when absent; a 400 naming the field, the
// value and what is allowed when it is not one.
std::optional<Nanos> read_duration_ms(const json::Value& doc, const char* field, Nanos min);

}  // namespace faultline::api
