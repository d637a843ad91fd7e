#include "schedule/ScheduleDecode.h"

#include <algorithm>
#include <cmath>

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

double number(const json::Value& doc, const char* field, std::optional<double> fallback) {
  const json::Value* v = json::find_member(doc, field);
  if (!v) {
    if (!fallback) refuse(field, json::Value(), "a number is required");
    return *fallback;
  }
  if (!v->is_number() || !std::isfinite(v->get<double>())) refuse(field, *v, "a number");
  return v->get<double>();
}

// ramp and wave: which toxic, which attribute, and how it moves.
void decode_modulation(const json::Value& doc, ScheduleSpec& s) {
  const json::Value* toxic = json::find_member(doc, "toxic");
  if (toxic && toxic->is_string()) {
    s.toxic_name = toxic->get<std::string>();
    if (s.toxic_name.empty()) refuse("toxic", *toxic, "the name of a toxic of the proxy, or a toxic in API format");
  } else {
    s.toxic = toxic_field(doc, "toxic", s.name);
    s.toxic_name = s.toxic->name;
  }
  s.attribute = text(doc, "attribute", "", "an attribute of the toxic, or \"toxicity\"");
  if (s.attribute.empty()) refuse("attribute", json::Value(), "an attribute of the toxic, or \"toxicity\", is required");
  if (s.toxic && s.attribute != "toxicity") {
    const AttributeSchema* a = s.toxic->toxic_type().find_attribute(s.attribute);
    if (!a || (a->type != AttributeType::Integer && a->type != AttributeType::Duration && a->type != AttributeType::Number)) {
      std::string names;
      for (const auto& x : s.toxic->toxic_type().attributes)
        if (x.type == AttributeType::Integer || x.type == AttributeType::Duration || x.type == AttributeType::Number) names += x.name + ", ";
      refuse("attribute", json::Value(s.attribute),
             fmt::format("{} has no such numeric attribute; allowed: {}toxicity", s.toxic->type_name(), names));
    }
  }
  if (s.kind == ScheduleKind::Ramp) {
    s.from = number(doc, "from", std::nullopt);
    s.to = number(doc, "to", std::nullopt);
    const auto duration = read_duration_ms(doc, "duration_ms", Millis(1));
    if (!duration) refuse("duration_ms", json::Value(), "how long the ramp takes is required (> 0)");
    s.duration = *duration;
    if (const json::Value* steps = json::find_member(doc, "steps")) {
      if (!steps->is_number_integer() || steps->get<int64_t>() < 0 || steps->get<int64_t>() > 100000)
        refuse("steps", *steps, "a whole number from 0 (smooth: every 100 ms) to 100000");
      s.steps = steps->get<int64_t>();
    }
    const std::string shape = text(doc, "shape", "linear", "one of linear, exponential");
    if (shape == "linear") s.shape = Shape::Linear;
    else if (shape == "exponential") s.shape = Shape::Exponential;
    else refuse("shape", json::Value(shape), "one of linear, exponential");
    const std::string then = text(doc, "then", "hold", "one of hold, remove");
    if (then != "hold" && then != "remove") refuse("then", json::Value(then), "one of hold, remove");
    s.hold = then == "hold";
  } else {
    s.from = number(doc, "min", std::nullopt);
    s.to = number(doc, "max", std::nullopt);
    if (s.to < s.from) refuse("max", *json::find_member(doc, "max"), fmt::format("at least min ({})", s.from));
    const auto period = read_duration_ms(doc, "period_ms", Millis(10));
    if (!period) refuse("period_ms", json::Value(), "the wave's period is required (at least 10 ms)");
    s.period = *period;
    s.duration = read_duration_ms(doc, "duration_ms", Nanos(0)).value_or(Nanos(0));
    const std::string shape = text(doc, "shape", "sine", "one of sine, square, triangle, sawtooth");
    if (shape == "sine") s.shape = Shape::Sine;
    else if (shape == "square") s.shape = Shape::Square;
    else if (shape == "triangle") s.shape = Shape::Triangle;
    else if (shape == "sawtooth") s.shape = Shape::Sawtooth;
    else refuse("shape", json::Value(shape), "one of sine, square, triangle, sawtooth");
  }
  if (s.attribute == "toxicity") {
    for (double v : {s.from, s.to})
      if (v < 0 || v > 1) refuse(s.kind == ScheduleKind::Ramp ? "to" : "max", json::Value(v), "toxicity goes from 0 to 1");
    s.whole_numbers = false;
  } else if (s.toxic) {
    const AttributeSchema& a = *s.toxic->toxic_type().find_attribute(s.attribute);
    s.whole_numbers = a.type != AttributeType::Number;
    check_modulation_range(s, a);
  }
}

// One timeline step's action as a batch.
TimelineStep timeline_step(const json::Value& step, size_t index, const ScheduleSpec& s) {
  const std::string where = fmt::format("steps[{}].", index);
  auto field = [&](const char* name) { return where + name; };
  if (!step.is_object()) refuse(field("").c_str(), step, "a step is an object: {\"at_ms\": N, \"action\": ...}");
  TimelineStep t;
  const auto at = read_duration_ms(step, "at_ms", Nanos(0));
  if (!at) refuse(field("at_ms").c_str(), json::Value(), "when the step happens, from the start of each pass, is required");
  t.at = *at;
  const json::Value* action = json::find_member(step, "action");
  if (!action || !action->is_string()) refuse(field("action").c_str(), action ? *action : json::Value(), "one of add, update, remove, disable, enable, cut");
  t.action = action->get<std::string>();
  if (t.action == "add") {
    ToxicSpec toxic = toxic_field(step, "toxic", fmt::format("{}_{}", s.name, index + 1));
    t.added_toxic = toxic.name;
    t.batch.add.push_back(std::move(toxic));
  } else if (t.action == "update" || t.action == "remove") {
    const json::Value* name = json::find_member(step, "toxic");
    if (!name || !name->is_string() || name->get<std::string>().empty())
      refuse(field("toxic").c_str(), name ? *name : json::Value(), "the name of the toxic to " + t.action);
    if (t.action == "remove") {
      t.batch.remove_if_present.push_back(name->get<std::string>());
    } else {
      t.batch.skip_missing_updates = true;
      if (const json::Value* attrs = json::find_member(step, "attributes")) {
        if (!attrs->is_object()) refuse(field("attributes").c_str(), *attrs, "an object of attribute values");
        for (auto it = attrs->begin(); it != attrs->end(); ++it) {
          if (!it.value().is_number()) refuse(field("attributes").c_str(), it.value(), "numbers (the toxic's ranges are checked when the step runs)");
          ToxicPatch patch;
          patch.set = ToxicPatch::SetOne{it.key(), it.value().is_number_integer() ? AttributeValue(it.value().get<int64_t>()) : AttributeValue(it.value().get<double>()), std::nullopt};
          t.batch.update.push_back({name->get<std::string>(), std::move(patch)});
        }
      }
      if (const json::Value* toxicity = json::find_member(step, "toxicity")) {
        if (!toxicity->is_number() || toxicity->get<double>() < 0 || toxicity->get<double>() > 1)
          refuse(field("toxicity").c_str(), *toxicity, "a number from 0 to 1");
        ToxicPatch patch;
        patch.set = ToxicPatch::SetOne{"toxicity", toxicity->get<double>(), std::nullopt};
        t.batch.update.push_back({name->get<std::string>(), std::move(patch)});
      }
      if (t.batch.update.empty()) refuse(field("attributes").c_str(), json::Value(), "an update needs attributes or toxicity");
    }
  } else if (t.action == "disable" || t.action == "enable") {
    t.batch.enabled = t.action == "enable";
  } else if (t.action == "cut") {
    t.batch.cut = true;
  } else {
    refuse(field("action").c_str(), *action, "one of add, update, remove, disable, enable, cut");
  }
  return t;
}

void decode_timeline(const json::Value& doc, ScheduleSpec& s) {
  const json::Value* steps = json::find_member(doc, "steps");
  if (!steps || !steps->is_array() || steps->empty() || steps->size() > 10000)
    refuse("steps", steps ? *steps : json::Value(), "a list of 1 to 10000 steps {\"at_ms\": N, \"action\": ...}");
  for (size_t i = 0; i < steps->size(); ++i) s.timeline.push_back(timeline_step((*steps)[i], i, s));
  std::stable_sort(s.timeline.begin(), s.timeline.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  if (const json::Value* repeat = json::find_member(doc, "repeat")) {
    if (!repeat->is_number_integer() || repeat->get<int64_t>() < 0 || repeat->get<int64_t>() > 1'000'000'000)
      refuse("repeat", *repeat, "passes to run: a whole number from 0 (until cancelled) to 1000000000");
    s.repeat = repeat->get<int64_t>();
  }
  s.period = read_duration_ms(doc, "period_ms", Millis(1)).value_or(s.timeline.back().at);
  if (s.period < s.timeline.back().at)
    refuse("period_ms", *json::find_member(doc, "period_ms"), "at least the last step's at_ms");
  if (s.repeat != 1 && s.period == Nanos(0)) refuse("period_ms", json::Value(), "a repeated timeline needs a period above 0");
}

}  // namespace

void check_modulation_range(const ScheduleSpec& s, const AttributeSchema& a) {
  for (double v : {s.from, s.to}) {
    const AttributeValue value = a.type == AttributeType::Number ? AttributeValue(v) : AttributeValue(static_cast<int64_t>(std::llround(v)));
    if (auto problem = a.check(s.toxic ? s.toxic->type_name() : std::string_view("toxic"), value))
      throw ApiError(400, "invalid schedule range: " + *problem);
  }
}

std::string_view to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Flap: return "flap";
    case ScheduleKind::Window: return "window";
    case ScheduleKind::Ramp: return "ramp";
    case ScheduleKind::Wave: return "wave";
    case ScheduleKind::Timeline: return "timeline";
  }
  return "?";
}

std::string_view to_string(Shape shape) {
  switch (shape) {
    case Shape::Linear: return "linear";
    case Shape::Exponential: return "exponential";
    case Shape::Sine: return "sine";
    case Shape::Square: return "square";
    case Shape::Triangle: return "triangle";
    case Shape::Sawtooth: return "sawtooth";
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
  s.source = doc.dump();
  s.proxy = text(doc, "proxy", "", "the name of a proxy");
  if (s.proxy.empty()) refuse("proxy", json::Value(), "the name of a proxy is required");
  const std::string kind = text(doc, "kind", "", "one of flap, window, ramp, wave, timeline");
  if (kind == "flap") s.kind = ScheduleKind::Flap;
  else if (kind == "window") s.kind = ScheduleKind::Window;
  else if (kind == "ramp") s.kind = ScheduleKind::Ramp;
  else if (kind == "wave") s.kind = ScheduleKind::Wave;
  else if (kind == "timeline") s.kind = ScheduleKind::Timeline;
  else refuse("kind", json::find_member(doc, "kind") ? *json::find_member(doc, "kind") : json::Value(), "one of flap, window, ramp, wave, timeline");
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
  } else if (s.kind == ScheduleKind::Ramp || s.kind == ScheduleKind::Wave) {
    decode_modulation(doc, s);
  } else if (s.kind == ScheduleKind::Timeline) {
    decode_timeline(doc, s);
  } else {
    s.toxic = toxic_field(doc, "toxic", s.name);
    const auto duration = read_duration_ms(doc, "duration_ms", Millis(1));
    if (!duration) refuse("duration_ms", json::Value(), "how long the toxic stays on is required (> 0)");
    s.duration = *duration;
  }
  return s;
}

}  // namespace faultline
