#pragma once
// GET /faultline/toxic-types: every toxic type with its attributes, from the
// schema the server validates with, so a form (the web UI's) can offer
// exactly the fields, defaults, ranges and choices each type has.
#include <string>

namespace faultline::api {

std::string toxic_types_json();

}  // namespace faultline::api
