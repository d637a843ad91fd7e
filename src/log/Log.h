#pragma once
// Structured logs: an event name plus key=value fields, written as text or as
// one JSON object per line. Lines are queued to a background writer, so a
// log call on the data path never waits for the terminal or a file.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::log {

enum class Level { Trace, Debug, Info, Warn, Error, Off };
enum class Format { Text, Json };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), text(v), quoted(true) {}
  Field(std::string_view k, const std::string& v) : key(k), text(v), quoted(true) {}
  Field(std::string_view k, const char* v) : key(k), text(v), quoted(true) {}
  Field(std::string_view k, bool v) : key(k), text(v ? "true" : "false"), quoted(false) {}
  Field(std::string_view k, double v);
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int>>>
  Field(std::string_view k, Int v) : key(k), text(std::to_string(v)), quoted(false) {}

  std::string_view key;
  std::string text;
  bool quoted;
};

void init(Level level, Format format);
void flush();
std::optional<Level> parse_level(std::string_view name);  // trace, debug, info, warn(ing), error, fatal, panic, off
bool enabled(Level level);
void write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void trace(std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::Trace)) write(Level::Trace, e, f); }
inline void debug(std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::Debug)) write(Level::Debug, e, f); }
inline void info(std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::Info)) write(Level::Info, e, f); }
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::Warn)) write(Level::Warn, e, f); }
inline void error(std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::Error)) write(Level::Error, e, f); }

}  // namespace faultline::log
