// The CLI's unit parsing ("250ms", "1.5s", "100kB/s"): every text is parsed
// or refused with a UnitError; results are never negative.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli/Units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace faultline::cli;
  try {
    if (parse_duration_ms(text) < 0) std::abort();
  } catch (const UnitError&) {
  }
  try {
    if (parse_rate_kbps(text) < 0) std::abort();
  } catch (const UnitError&) {
  }
  double number = 0;
  parse_number(text, number);
  return 0;
}
