#pragma once
// Parsing of the human units operators type on the command line. The API
// itself only knows milliseconds and KB/s; these helpers turn "2s" or
// "1MB/s" into those numbers and reject anything ambiguous with a message
// that says what would have been accepted.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline::cli {

class UnitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "250ms", "2s", "1.5s", "1m", "1h"; a plain number is milliseconds (the
// API's unit). Result in whole milliseconds, never negative.
int64_t parse_duration_ms(std::string_view text);

// "100kB/s", "100KB/s", "2MB/s", "1GB/s", "500000B/s"; a plain number is
// KB/s (the API's unit). Decimal prefixes: 1 kB = 1000 bytes. Result in
// whole KB/s; a non-zero rate below 1 KB/s is an error because the API
// cannot express it.
int64_t parse_rate_kbps(std::string_view text);

// A number as the reference CLI sends attribute values: true when `text`
// is an integer or a decimal number (then `out` holds it).
bool parse_number(std::string_view text, double& out);

}  // namespace faultline::cli
