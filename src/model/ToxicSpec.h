#pragma once
// What a user configures for one toxic, independent of any connection.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/Direction.h"
#include "model/ToxicType.h"

namespace faultline {

struct ToxicSpec {
  std::string name;
  ToxicKind kind = ToxicKind::Noop;
  std::string stream = "downstream";  // the text the client sent, echoed back as is
  Direction direction = Direction::Downstream;
  float toxicity = 1.0f;
  // In the order of the type's attribute table (that order is part of the JSON shape).
  std::vector<std::pair<std::string, int64_t>> attributes;

  int64_t attribute(std::string_view key) const {
    for (const auto& [k, v] : attributes)
      if (k == key) return v;
    return 0;
  }
};

}  // namespace faultline
