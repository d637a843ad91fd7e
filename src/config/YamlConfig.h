#pragma once
// YAML config files, read as the JSON document the validator expects:
// exactly one document, numbers as JSON reads them, no duplicate keys, and
// bounds on depth and on the values that aliases expand to.
#include <string>

#include "json/RequestBody.h"

namespace faultline {

// Throws ConfigError naming `origin`, the line and the problem.
json::Value parse_yaml_config(const std::string& text, const std::string& origin);

}  // namespace faultline
