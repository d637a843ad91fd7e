#pragma once
// Ranges several toxic types share.
#include <cstdint>

namespace faultline::ranges {

// A year of milliseconds: the longest delay or timeout any toxic accepts.
inline constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;
// Toxiproxy gives negative latency, timeouts and delays a meaning ("none"),
// so they stay accepted, down to minus a year.
inline constexpr const char* kNoneWhenNegative = "negative means none";

}  // namespace faultline::ranges
