#include "cli/Units.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

namespace faultline::cli {
namespace {

// Splits "1.5MB/s" into 1.5 and "MB/s". The number must come first and be
// non-negative: a negative duration or rate never makes sense here.
std::pair<double, std::string_view> split_number(std::string_view text, std::string_view what) {
  size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
  if (end == 0 || ec != std::errc() || ptr != text.data() + end) {
    throw UnitError(fmt::format("invalid {} '{}'", what, text));
  }
  return {value, text.substr(end)};
}

int64_t to_whole(double value, std::string_view text, std::string_view what) {
  if (!std::isfinite(value) || value > 9.0e15) throw UnitError(fmt::format("{} '{}' is too large", what, text));
  return static_cast<int64_t>(std::llround(value));
}

}  // namespace

int64_t parse_duration_ms(std::string_view text) {
  const auto [value, unit] = split_number(text, "duration");
  constexpr std::array<std::pair<std::string_view, double>, 5> units{{
      {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};
  for (const auto& [name, factor] : units) {
    if (unit == name) return to_whole(value * factor, text, "duration");
  }
  throw UnitError(fmt::format("invalid duration '{}' (use e.g. 250ms, 2s, 1m; a plain number is milliseconds)", text));
}

int64_t parse_rate_kbps(std::string_view text) {
  const auto [value, unit] = split_number(text, "rate");
  // Factors are in KB/s; "kB" and "KB" both mean 1000 bytes, as in the API.
  // Lower-case "kb/s" is left out on purpose: it often means kilobits.
  constexpr std::array<std::pair<std::string_view, double>, 6> units{{
      {"", 1}, {"B/s", 0.001}, {"kB/s", 1}, {"KB/s", 1}, {"MB/s", 1000}, {"GB/s", 1'000'000}}};
  for (const auto& [name, factor] : units) {
    if (unit != name) continue;
    const double kbps = value * factor;
    if (kbps > 0 && kbps < 0.5) {
      throw UnitError(fmt::format("rate '{}' is below 1 KB/s, the smallest rate the API can express", text));
    }
    return to_whole(kbps, text, "rate");
  }
  throw UnitError(fmt::format("invalid rate '{}' (use e.g. 500B/s, 100kB/s, 2MB/s, 1GB/s; a plain number is KB/s)", text));
}

bool parse_number(std::string_view text, double& out) {
  if (text.empty()) return false;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  // from_chars rejects a leading '+', which is what we want: "+5" stays a string.
  const auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

}  // namespace faultline::cli
