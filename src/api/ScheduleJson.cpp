#include "api/ScheduleJson.h"

#include <ctime>

#include <fmt/format.h>

#include "api/JsonViews.h"
#include "json/JsonWriter.h"

namespace faultline::api {
namespace {

int64_t ms(Nanos n) { return std::chrono::duration_cast<Millis>(n).count(); }

// RFC 3339 in UTC with milliseconds: "2026-12-01T13:05:09.123Z".
std::string rfc3339(WallTime t) {
  const auto since = std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(since / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, since % 1000);
}

void append_schedule(std::string& out, const ScheduleView& v) {
  const ScheduleSpec& s = v.spec;
  json::ObjectWriter obj(out);
  obj.field("name", s.name);
  obj.field("proxy", s.proxy);
  obj.field("kind", to_string(s.kind));
  obj.field("start_ms", ms(s.start));
  if (s.kind == ScheduleKind::Flap) {
    obj.field("mode", to_string(s.mode));
    obj.field("up_ms", ms(s.up));
    obj.field("down_ms", ms(s.down));
    obj.field("iterations", s.iterations);
    if (s.mode == FlapMode::Timeout || s.mode == FlapMode::Reset) {
      obj.field("timeout_ms", s.timeout_ms);
      obj.field("stream", s.streams.size() == 2 ? "both" : s.streams[0] == Direction::Upstream ? "up" : "down");
    }
  } else if (s.kind == ScheduleKind::Window) {
    obj.field("duration_ms", ms(s.duration));
  } else if (s.kind == ScheduleKind::Timeline) {
    obj.field("repeat", s.repeat);
    obj.field("period_ms", ms(s.period));
    std::string& steps = obj.key("steps");
    steps += '[';
    for (size_t i = 0; i < s.timeline.size(); ++i) {
      if (i) steps += ',';
      json::ObjectWriter step(steps);
      step.field("at_ms", ms(s.timeline[i].at));
      step.field("action", s.timeline[i].action);
      if (!s.timeline[i].batch.add.empty()) append_toxic(step.key("toxic"), s.timeline[i].batch.add[0]);
      else if (!s.timeline[i].batch.remove_if_present.empty()) step.field("toxic", s.timeline[i].batch.remove_if_present[0]);
      else if (!s.timeline[i].batch.update.empty()) step.field("toxic", s.timeline[i].batch.update[0].name);
    }
    steps += ']';
  } else {
    json::append_string(obj.key("attribute"), s.attribute);
    const bool ramp = s.kind == ScheduleKind::Ramp;
    obj.raw_field(ramp ? "from" : "min", fmt::format("{}", s.from));
    obj.raw_field(ramp ? "to" : "max", fmt::format("{}", s.to));
    obj.field("duration_ms", ms(s.duration));
    if (ramp) {
      obj.field("steps", s.steps);
      obj.field("then", s.hold ? "hold" : "remove");
    } else {
      obj.field("period_ms", ms(s.period));
    }
    obj.field("shape", to_string(s.shape));
  }
  if (s.toxic) append_toxic(obj.key("toxic"), *s.toxic);
  else if (!s.toxic_name.empty()) obj.field("toxic", s.toxic_name);
  obj.field("state", to_string(v.state));
  obj.field("phase", v.phase);
  obj.field("iteration", v.iteration);
  obj.field("transitions", static_cast<int64_t>(v.transitions));
  obj.field("started_at", rfc3339(v.started_at));
  if (v.next_at) obj.field("next_at", rfc3339(*v.next_at));
  else obj.raw_field("next_at", "null");
}

}  // namespace

std::string schedule_json(const ScheduleView& schedule) {
  std::string out;
  append_schedule(out, schedule);
  return out;
}

std::string schedules_json(const std::vector<ScheduleView>& schedules) {
  std::string out = "[";
  for (size_t i = 0; i < schedules.size(); ++i) {
    if (i) out += ',';
    append_schedule(out, schedules[i]);
  }
  return out + "]";
}

}  // namespace faultline::api
