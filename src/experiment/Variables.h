#pragma once
// Where an experiment's `${name}` values come from, and their substitution:
// the `configuration` and `secrets` blocks (a value, or {"type": "env",
// "key": NAME, "default": ...}), overridden by --var-file and --var.
#include <string>
#include <vector>

#include "experiment/Experiment.h"

namespace faultline::experiment {

// "key=value", "key:int=3", "key:float=0.5", "key:str=007", "key:bool=true";
// throws ExperimentError naming the argument.
std::pair<std::string, Json> parse_var(const std::string& text);
// A JSON or YAML object, or a .env file (KEY=VALUE lines, # comments).
Json read_var_file(const std::string& path);

// Every configuration and secret key resolved to its value (environment
// read now); `overrides` win. Throws ExperimentError for an unset variable
// without a default ("configuration.api_url: ...").
Json resolve_values(const Experiment& e, const Json& overrides);

// `${name}` replaced everywhere in strings; a string that is exactly
// "${name}" takes the value with its type (a number stays a number).
// Unknown names are left as written.
Json substitute(const Json& value, const Json& values);

}  // namespace faultline::experiment
