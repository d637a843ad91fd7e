#pragma once
// The two one-way streams of a proxied connection, named as Toxiproxy names them.
#include <optional>
#include <string_view>

namespace faultline {

enum class Direction {
  Upstream,    // client -> proxy -> upstream server
  Downstream,  // upstream server -> proxy -> client
};

inline constexpr Direction kDirections[] = {Direction::Upstream, Direction::Downstream};

constexpr const char* to_string(Direction d) {
  return d == Direction::Upstream ? "upstream" : "downstream";
}

constexpr Direction opposite(Direction d) { return d == Direction::Upstream ? Direction::Downstream : Direction::Upstream; }

constexpr int index_of(Direction d) { return d == Direction::Upstream ? 0 : 1; }

// The API accepts the stream name in any letter case ("UpStream" acts as upstream).
std::optional<Direction> parse_direction(std::string_view text);

}  // namespace faultline
