#include "schedule/ScheduleDecode.h"

#include <fmt/format.h>

#include "api/ToxicRequests.h"
#include "model/ApiError.h"
#include "model/Names.h"

namespace faultline {
using api::read_duration_ms;
namespace {

[[noreturn]] void refuse(const char* field, const json::Value& value, const std::string& allowed) {
  throw ApiError(400, fmt::format("invalid schedule field \"{}\": {} ({})", field,
                                  value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), allowed));
}

std::string text(const json::Value& doc, const char* field, const std::string& fallback, const std::string& allowed) {
  const json::Value* v = json::find_member(doc, field);
  if (!v) return fallback;
  if (!v->is_string()) refuse(field, *v, allowed);
  return v->get<std::string>();
}

// A toxic in API format, decoded by the API's own decoder.
ToxicSpec toxic_field(const json::Value& doc, const char* field, const std::string& default_name) {
  const json::Value* v = json::find_member(doc, field);
  if (!v || !v->is_object()) refuse(field, v ? *v : json::Value(), "a toxic in API format is required, e.g. {\"type\":\"latency\",\"attributes\":{\"latency\":500}}");
  json::Value body = *v;
  if (!json::find_member(body, "name")) body["name"] = default_name;
  try {
    return api::decode_toxic_create(body, [](const std::string&) { return false; });
  } catch (const ApiError& e) {
    throw ApiError(400, fmt::format("invalid schedule field \"{}\": {}", field, e.what()));
  }
}

}  // namespace

std::string_view to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Flap: return "flap";
    case ScheduleKind::Window: return "window";
  }
  return "?";
}

std::string_view to_string(FlapMode mode) {
  switch (mode) {
    case FlapMode::Refuse: return "refuse";
    case FlapMode::Timeout: return "timeout";
    case FlapMode::Reset: return "reset";
    case FlapMode::Toxic: return "toxic";
  }
  return "?";
}

ScheduleSpec decode_schedule(const json::Value& doc) {
  json::expect_object(doc, "faultline.Schedule");
  ScheduleSpec s;
  s.proxy = text(doc, "proxy", "", "the name of a proxy");
  if (s.proxy.empty()) refuse("proxy", json::Value(), "the name of a proxy is required");
  const std::string kind = text(doc, "kind", "", "one of flap, window");
  if (kind == "flap") s.kind = ScheduleKind::Flap;
  else if (kind == "window") s.kind = ScheduleKind::Window;
  else if (kind == "ramp" || kind == "wave" || kind == "timeline")
    refuse("kind", json::Value(kind), "not available yet in this build; allowed: flap, window");
  else refuse("kind", json::find_member(doc, "kind") ? *json::find_member(doc, "kind") : json::Value(), "one of flap, window");
  s.name = text(doc, "name", s.proxy + "_" + kind, "a name of up to 1000 bytes");
  if (s.name.empty()) refuse("name", json::Value(s.name), "a non-empty name");
  if (auto problem = check_name_length("schedule", s.name)) throw ApiError(400, *problem);
  s.start = read_duration_ms(doc, "start_ms", Nanos(0)).value_or(Nanos(0));

  if (s.kind == ScheduleKind::Flap) {
    const std::string mode = text(doc, "mode", "timeout", "one of refuse, timeout, reset, toxic");
    if (mode == "refuse") s.mode = FlapMode::Refuse;
    else if (mode == "timeout") s.mode = FlapMode::Timeout;
    else if (mode == "reset") s.mode = FlapMode::Reset;
    else if (mode == "toxic") s.mode = FlapMode::Toxic;
    else refuse("mode", json::Value(mode), "one of refuse, timeout, reset, toxic");
    s.up = read_duration_ms(doc, "up_ms", Millis(1)).value_or(s.up);
    s.down = read_duration_ms(doc, "down_ms", Millis(1)).value_or(s.down);
    if (const json::Value* it = json::find_member(doc, "iterations")) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1'000'000'000)
        refuse("iterations", *it, "a whole number from 0 (until cancelled) to 1000000000");
      s.iterations = it->get<int64_t>();
    }
    const int64_t default_timeout = s.mode == FlapMode::Reset ? 0 : 30000;
    const auto timeout = read_duration_ms(doc, "timeout_ms", Nanos(0));
    s.timeout_ms = timeout ? std::chrono::duration_cast<Millis>(*timeout).count() : default_timeout;
    const std::string stream = text(doc, "stream", "both", "one of up, down, both");
    if (stream == "up" || stream == "upstream") s.streams = {Direction::Upstream};
    else if (stream == "down" || stream == "downstream") s.streams = {Direction::Downstream};
    else if (stream == "both") s.streams = {Direction::Upstream, Direction::Downstream};
    else refuse("stream", json::Value(stream), "one of up, down, both");
    if (s.mode == FlapMode::Toxic) s.toxic = toxic_field(doc, "toxic", s.name);
  } else {
    s.toxic = toxic_field(doc, "toxic", s.name);
    const auto duration = read_duration_ms(doc, "duration_ms", Millis(1));
    if (!duration) refuse("duration_ms", json::Value(), "how long the toxic stays on is required (> 0)");
    s.duration = *duration;
  }
  return s;
}

}  // namespace faultline
