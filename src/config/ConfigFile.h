#pragma once
// The startup config file: Toxiproxy's JSON array of proxies, optionally with
// a "toxics" list per proxy in the API's toxic format and a "schedules" list
// in the format of POST /faultline/schedules (the proxy implied), or the same document
// in YAML (.yaml/.yml). Everything is validated before anything starts; the
// first problem is reported with the entry, the field, the value and what
// would be allowed (D14).
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/Registry.h"
#include "schedule/ScheduleSpec.h"

namespace faultline {

// How deep a config file may nest, JSON or YAML. A real file nests four
// levels; deeper documents exhaust the stack of whatever walks them.
inline constexpr size_t kMaxConfigDepth = 64;

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedConfig {
  std::vector<PopulateEntry> proxies;
  std::vector<ScheduleSpec> schedules;  // from each proxy's "schedules": started once the proxies are
  std::vector<std::string> warnings;  // e.g. unknown keys, which Toxiproxy ignores too
};

LoadedConfig load_config_file(const std::string& path);
LoadedConfig parse_config_text(const std::string& text, const std::string& origin, bool yaml);

}  // namespace faultline
