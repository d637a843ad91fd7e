#include "model/Direction.h"

#include <strings.h>

#include <string>

namespace faultline {

std::optional<Direction> parse_direction(std::string_view text) {
  const std::string s(text);
  if (strcasecmp(s.c_str(), "upstream") == 0) return Direction::Upstream;
  if (strcasecmp(s.c_str(), "downstream") == 0) return Direction::Downstream;
  return std::nullopt;
}

}  // namespace faultline
