#pragma once
// The catalogue of toxic types: their names, attributes and value rules.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace faultline {

enum class ToxicKind { Latency, Bandwidth, SlowClose, Timeout, ResetPeer, Slicer, LimitData, Noop };

// One integer attribute of a toxic type and the values it accepts. Every
// range is one the arithmetic behind the attribute survives (durations stay
// far from the 292 years a nanosecond clock can hold, rates leave room for
// byte counts times 10^6), so no accepted value can overflow, divide by zero
// or spin.
struct AttributeInfo {
  std::string_view name;  // JSON key
  int64_t min;
  int64_t max;
  std::string_view unit;      // "ms", "KB/s", "bytes", "us"
  std::string_view negative;  // what a negative value means, when one is allowed
};

struct ToxicTypeInfo {
  ToxicKind kind;
  std::string_view name;         // as in the API: "latency", "slow_close", ...
  std::string_view go_struct;    // used in Go-style decode errors: "LatencyToxic"
  std::span<const AttributeInfo> attributes;  // JSON key order
};

std::optional<ToxicKind> parse_toxic_kind(std::string_view name);
const ToxicTypeInfo& toxic_type_info(ToxicKind kind);
std::span<const ToxicTypeInfo> all_toxic_types();
const AttributeInfo* find_attribute(ToxicKind kind, std::string_view key);

// Checks one attribute value. Returns an error message naming the toxic type,
// the attribute, the value and the allowed range, or nothing when it is fine.
std::optional<std::string> check_toxic_attribute(ToxicKind kind, std::string_view key, int64_t value);

}  // namespace faultline
