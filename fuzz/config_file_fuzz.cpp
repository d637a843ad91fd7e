// The start-up config file, JSON or YAML (the first byte chooses): every
// input must be loaded or refused with a ConfigError, never crash, hang,
// grow without bound, or throw anything else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/ConfigFile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool yaml = data[0] & 1;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    faultline::parse_config_text(text, yaml ? "fuzz.yaml" : "fuzz.json", yaml);
  } catch (const faultline::ConfigError&) {
  }
  return 0;
}
