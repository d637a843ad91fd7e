#include "model/ToxicType.h"

#include <array>
#include <fmt/format.h>

namespace faultline {
namespace {

// A year of milliseconds: the longest delay or timeout any toxic accepts.
constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;
// Toxiproxy gives negative latency, timeouts and delays a meaning ("none"),
// so they stay accepted, down to minus a year.
constexpr std::string_view kNoneWhenNegative = "negative means none";

constexpr AttributeInfo kLatencyAttrs[] = {
    {"latency", -kYearMs, kYearMs, "ms", kNoneWhenNegative},
    {"jitter", -kYearMs, kYearMs, "ms", kNoneWhenNegative},
};
// 100 GB/s is far above what a proxy moves; the pacing arithmetic
// (bytes * 10^6 / rate, rate * 100) stays exact well past it.
constexpr AttributeInfo kBandwidthAttrs[] = {{"rate", 0, 100'000'000, "KB/s", ""}};
constexpr AttributeInfo kSlowCloseAttrs[] = {{"delay", -kYearMs, kYearMs, "ms", kNoneWhenNegative}};
constexpr AttributeInfo kTimeoutAttrs[] = {{"timeout", -kYearMs, kYearMs, "ms", kNoneWhenNegative}};
constexpr AttributeInfo kSlicerAttrs[] = {
    {"average_size", 0, 1LL << 30, "bytes", ""},
    {"size_variation", 0, 1LL << 30, "bytes", ""},
    {"delay", 0, kYearMs * 1000, "us", ""},
};
// A byte count is only compared with the bytes passed so far: any value works.
constexpr AttributeInfo kLimitDataAttrs[] = {
    {"bytes", INT64_MIN, INT64_MAX, "bytes", "negative acts as 0"},
};

const std::array<ToxicTypeInfo, 8> kTypes = {{
    {ToxicKind::Latency, "latency", "LatencyToxic", kLatencyAttrs},
    {ToxicKind::Bandwidth, "bandwidth", "BandwidthToxic", kBandwidthAttrs},
    {ToxicKind::SlowClose, "slow_close", "SlowCloseToxic", kSlowCloseAttrs},
    {ToxicKind::Timeout, "timeout", "TimeoutToxic", kTimeoutAttrs},
    {ToxicKind::ResetPeer, "reset_peer", "ResetToxic", kTimeoutAttrs},
    {ToxicKind::Slicer, "slicer", "SlicerToxic", kSlicerAttrs},
    {ToxicKind::LimitData, "limit_data", "LimitDataToxic", kLimitDataAttrs},
    {ToxicKind::Noop, "noop", "NoopToxic", {}},
}};

}  // namespace

std::optional<ToxicKind> parse_toxic_kind(std::string_view name) {
  for (const auto& t : kTypes)
    if (t.name == name) return t.kind;
  return std::nullopt;
}

const ToxicTypeInfo& toxic_type_info(ToxicKind kind) {
  for (const auto& t : kTypes)
    if (t.kind == kind) return t;
  return kTypes.back();
}

std::span<const ToxicTypeInfo> all_toxic_types() { return kTypes; }

const AttributeInfo* find_attribute(ToxicKind kind, std::string_view key) {
  for (const auto& a : toxic_type_info(kind).attributes)
    if (a.name == key) return &a;
  return nullptr;
}

std::optional<std::string> check_toxic_attribute(ToxicKind kind, std::string_view key, int64_t value) {
  const AttributeInfo* a = find_attribute(kind, key);
  if (!a || (value >= a->min && value <= a->max)) return std::nullopt;
  // "must be 0 or more" reads better than a range from 0 when only the sign is wrong.
  if (a->min == 0 && value < 0)
    return fmt::format("invalid value for {} attribute {}: {} (must be 0 or more, in {}; at most {})",
                       toxic_type_info(kind).name, key, value, a->unit, a->max);
  return fmt::format("invalid value for {} attribute {}: {} (allowed: {} to {} {}{}{})", toxic_type_info(kind).name,
                     key, value, a->min, a->max, a->unit, a->negative.empty() ? "" : "; ", a->negative);
}

}  // namespace faultline
