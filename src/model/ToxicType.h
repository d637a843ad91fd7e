#pragma once
// The catalogue of toxic types: their names, attributes and value rules.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace faultline {

enum class ToxicKind { Latency, Bandwidth, SlowClose, Timeout, ResetPeer, Slicer, LimitData, Noop };

struct ToxicTypeInfo {
  ToxicKind kind;
  std::string_view name;         // as in the API: "latency", "slow_close", ...
  std::string_view go_struct;    // used in Go-style decode errors: "LatencyToxic"
  std::span<const std::string_view> attributes;  // JSON key order
};

std::optional<ToxicKind> parse_toxic_kind(std::string_view name);
const ToxicTypeInfo& toxic_type_info(ToxicKind kind);
std::span<const ToxicTypeInfo> all_toxic_types();

// Checks one attribute value. Returns an error message naming the attribute, the
// value and what is allowed, or nothing when the value is fine.
std::optional<std::string> check_toxic_attribute(ToxicKind kind, std::string_view key, int64_t value);

}  // namespace faultline
