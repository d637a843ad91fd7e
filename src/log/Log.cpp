#include "log/Log.h"

#include <strings.h>

#include <atomic>
#include <chrono>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "json/JsonWriter.h"

namespace faultline::log {
namespace {

std::atomic<Level> g_level{Level::Info};
std::atomic<Format> g_format{Format::Text};
std::shared_ptr<spdlog::logger> g_logger;

const char* level_name(Level level) {
  switch (level) {
    case Level::Trace: return "trace";
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Off: break;
  }
  return "off";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms);
}

bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (char c : text)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

std::string format_text(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line = fmt::format("{} {:<5} {}", timestamp(), level_name(level), event);
  for (const Field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    if (f.quoted && needs_quotes(f.text)) json::append_string(line, f.text);
    else line += f.text;
  }
  return line;
}

std::string format_json(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line;
  {
    json::ObjectWriter obj(line);
    obj.field("time", timestamp());
    obj.field("level", level_name(level));
    obj.field("msg", event);
    for (const Field& f : fields) {
      if (f.quoted) obj.field(f.key, f.text);
      else obj.raw_field(f.key, f.text);
    }
  }
  return line;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), text(fmt::format("{:g}", v)), quoted(false) {}

void init(Level level, Format format) {
  g_level = level;
  g_format = format;
  if (!g_logger) {
    // A bounded queue that drops the oldest lines rather than block a caller.
    spdlog::init_thread_pool(8192, 1);
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    g_logger = std::make_shared<spdlog::async_logger>("faultline", sink, spdlog::thread_pool(),
                                                      spdlog::async_overflow_policy::overrun_oldest);
    g_logger->set_pattern("%v");
    g_logger->set_level(spdlog::level::trace);
    g_logger->flush_on(spdlog::level::trace);
  }
}

void flush() {
  if (g_logger) g_logger->flush();
}

std::optional<Level> parse_level(std::string_view name) {
  const std::string n(name);
  auto is = [&](const char* s) { return strcasecmp(n.c_str(), s) == 0; };
  if (is("trace")) return Level::Trace;
  if (is("debug")) return Level::Debug;
  if (is("info")) return Level::Info;
  if (is("warn") || is("warning")) return Level::Warn;
  if (is("error") || is("fatal") || is("panic")) return Level::Error;
  if (is("off") || is("disabled") || is("none")) return Level::Off;
  return std::nullopt;
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed) && level != Level::Off; }

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line = g_format.load() == Format::Json ? format_json(level, event, fields)
                                                    : format_text(level, event, fields);
  if (g_logger) g_logger->log(spdlog::level::info, line);
  else fmt::print(stderr, "{}\n", line);
}

}  // namespace faultline::log
