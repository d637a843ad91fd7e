#include "model/ToxicType.h"

#include <array>
#include <fmt/format.h>

namespace faultline {
namespace {

constexpr std::string_view kLatencyAttrs[] = {"latency", "jitter"};
constexpr std::string_view kBandwidthAttrs[] = {"rate"};
constexpr std::string_view kSlowCloseAttrs[] = {"delay"};
constexpr std::string_view kTimeoutAttrs[] = {"timeout"};
constexpr std::string_view kSlicerAttrs[] = {"average_size", "size_variation", "delay"};
constexpr std::string_view kLimitDataAttrs[] = {"bytes"};

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

std::optional<std::string> check_toxic_attribute(ToxicKind kind, std::string_view key, int64_t value) {
  // Toxiproxy gives negative latency, timeouts and delays a meaning ("none"), so
  // they stay accepted. Negative rates and slice sizes crash the reference and
  // have no meaning: those are refused (faultline differences D7 and D8).
  const bool must_not_be_negative =
      (kind == ToxicKind::Bandwidth && key == "rate") ||
      (kind == ToxicKind::Slicer && (key == "average_size" || key == "size_variation" || key == "delay"));
  if (must_not_be_negative && value < 0) {
    const char* unit = kind == ToxicKind::Bandwidth ? "KB/s"
                       : key == "delay"              ? "microseconds"
                                                     : "bytes";
    return fmt::format("invalid value for {} attribute {}: {} (must be 0 or more, in {})",
                       toxic_type_info(kind).name, key, value, unit);
  }
  return std::nullopt;
}

}  // namespace faultline
