// A schedule's plan in time, without a thread: when each transition is due
// and what it changes. Iteration N of a flap starts at start + N x period
// however late the scheduler wakes, so edges never drift.
#include <gtest/gtest.h>

#include "model/ApiError.h"
#include "schedule/Schedule.h"
#include "schedule/ScheduleDecode.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;

ScheduleSpec decode(const std::string& body) { return decode_schedule(json::Value::parse(body)); }

TEST(SchedulePlan, FlapEdgesAreComputedFromTheStartNeverAccumulated) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"proxy":"p","kind":"flap","mode":"refuse","start_ms":100,"up_ms":30,"down_ms":20,"iterations":3})"), t0);
  EXPECT_EQ(s.state(), ScheduleState::Pending);
  EXPECT_EQ(s.next_at(), t0 + 100ms);
  std::vector<Nanos> edges;
  std::vector<std::string> phases;
  // Wake late every time (7 ms after each deadline): the plan stays on its grid.
  while (auto at = s.next_at()) {
    for (const auto& t : s.advance(*at + 7ms)) {
      phases.push_back(t.phase);
      edges.push_back(*at - t0);
    }
  }
  EXPECT_EQ(phases, (std::vector<std::string>{"down", "up", "down", "up", "down", "up"}));
  EXPECT_EQ(edges, (std::vector<Nanos>{130ms, 150ms, 180ms, 200ms, 230ms, 250ms}));
  EXPECT_EQ(s.state(), ScheduleState::Finished);
  EXPECT_EQ(s.transitions(), 6u);
  EXPECT_EQ(s.iteration(), 3);
}

TEST(SchedulePlan, ALateWakeUpPlaysEveryMissedTransitionInOrder) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"proxy":"p","kind":"flap","up_ms":10,"down_ms":10})"), t0);
  const auto transitions = s.advance(t0 + 45ms);  // start, down@10, up@20, down@30, up@40
  ASSERT_EQ(transitions.size(), 4u);
  EXPECT_EQ(transitions.back().phase, "up");
  EXPECT_EQ(s.next_at(), t0 + 50ms);
}

TEST(SchedulePlan, TimeoutModeAddsOneToxicPerStreamAndRemovesOnlyThose) {
  Schedule s(decode(R"({"name":"f","proxy":"p","kind":"flap","mode":"timeout","up_ms":10,"down_ms":10,"timeout_ms":"2s"})"), TimePoint(1h));
  s.advance(TimePoint(1h));
  const auto down = s.advance(TimePoint(1h) + 10ms);
  ASSERT_EQ(down.size(), 1u);
  ASSERT_EQ(down[0].batch.add.size(), 2u);
  EXPECT_EQ(down[0].batch.add[0].name, "f_upstream");
  EXPECT_EQ(down[0].batch.add[1].name, "f_downstream");
  EXPECT_EQ(down[0].batch.add[0].integer("timeout"), 2000);
  const ToxicBatch undo = s.cancel();
  EXPECT_EQ(undo.remove_if_present, (std::vector<std::string>{"f_upstream", "f_downstream"}));
  EXPECT_TRUE(undo.add.empty());
  EXPECT_EQ(s.state(), ScheduleState::Cancelled);
}

TEST(SchedulePlan, CancellingWhileHealthyUndoesNothing) {
  Schedule s(decode(R"({"proxy":"p","kind":"flap","mode":"refuse","up_ms":100,"down_ms":10})"), TimePoint(1h));
  s.advance(TimePoint(1h));
  const ToxicBatch undo = s.cancel();
  EXPECT_FALSE(undo.enabled.has_value());
  EXPECT_TRUE(undo.remove_if_present.empty());
}

TEST(SchedulePlan, AWindowIsOnForItsDuration) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"name":"w","proxy":"p","kind":"window","start_ms":"1s","duration_ms":"2m","toxic":{"type":"bandwidth","attributes":{"rate":5}}})"), t0);
  EXPECT_TRUE(s.advance(t0 + 999ms).empty());
  const auto on = s.advance(t0 + 1s);
  ASSERT_EQ(on.size(), 1u);
  EXPECT_EQ(on[0].batch.add.at(0).name, "w");
  EXPECT_EQ(on[0].batch.add.at(0).integer("rate"), 5);
  EXPECT_EQ(s.next_at(), t0 + 121s);
  const auto off = s.advance(t0 + 121s);
  EXPECT_EQ(off.at(0).batch.remove_if_present, std::vector<std::string>{"w"});
  EXPECT_EQ(s.state(), ScheduleState::Finished);
}

// The values a ramp or wave sets, sample by sample.
std::vector<AttributeValue> play(Schedule& s, TimePoint until) {
  std::vector<AttributeValue> values;
  while (auto at = s.next_at()) {
    if (*at > until) break;
    for (const auto& t : s.advance(*at)) {
      for (const auto& u : t.batch.update) values.push_back(u.patch.set->value);
      for (const auto& a : t.batch.add) values.push_back(a.attributes.empty() ? AttributeValue(static_cast<double>(a.toxicity)) : a.attributes[0]);
    }
  }
  return values;
}

TEST(SchedulePlan, ARampCreatesItsToxicAndStepsLinearly) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"name":"r","proxy":"p","kind":"ramp","attribute":"latency","from":0,"to":500,"duration_ms":"60s","steps":5,
                        "toxic":{"type":"latency"}})"), t0);
  EXPECT_EQ(play(s, t0 + 60s), (std::vector<AttributeValue>{int64_t{0}, int64_t{100}, int64_t{200}, int64_t{300}, int64_t{400}, int64_t{500}}));
  EXPECT_EQ(s.state(), ScheduleState::Finished);
  EXPECT_EQ(s.phase(), "holding");
  EXPECT_TRUE(s.cancel().remove_if_present.empty()) << "a held ramp leaves its value";
}

TEST(SchedulePlan, EachRampStepOnlyAppliesIfTheValueIsStillTheRampsOwn) {
  ScheduleSpec spec = decode(R"({"proxy":"p","kind":"ramp","toxic":"mine","attribute":"toxicity","from":0.1,"to":0.3,"duration_ms":100,"steps":2,"then":"remove"})");
  spec.original = 0.5;
  spec.whole_numbers = false;
  Schedule s(spec, TimePoint(1h));
  const auto first = s.advance(TimePoint(1h));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].batch.update[0].patch.set->only_if.has_value()) << "the first step takes the toxic over";
  const auto second = s.advance(TimePoint(1h) + 50ms);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].batch.update[0].patch.set->only_if, AttributeValue(0.1));
  const auto last = s.advance(TimePoint(1h) + 100ms);
  ASSERT_EQ(last.size(), 2u) << "the last step, then the undo (then: remove)";
  EXPECT_EQ(last[1].batch.update[0].patch.set->value, AttributeValue(0.5)) << "the user's value comes back";
  EXPECT_EQ(last[1].batch.update[0].patch.set->only_if, AttributeValue(0.3));
}

TEST(SchedulePlan, AnExponentialRampGrowsByTheSameFactorEachStep) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"proxy":"p","kind":"ramp","attribute":"latency","from":10,"to":1000,"duration_ms":200,"steps":2,
                        "shape":"exponential","toxic":{"type":"latency"}})"), t0);
  EXPECT_EQ(play(s, t0 + 1s), (std::vector<AttributeValue>{int64_t{10}, int64_t{100}, int64_t{1000}}));
}

TEST(SchedulePlan, ASquareWaveAlternatesAndEndsByRemovingItsToxic) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"name":"w","proxy":"p","kind":"wave","attribute":"latency","min":0,"max":300,"period_ms":100,
                        "shape":"square","duration_ms":300,"toxic":{"type":"latency"}})"), t0);
  EXPECT_EQ(play(s, t0 + 250ms), (std::vector<AttributeValue>{int64_t{300}, int64_t{0}, int64_t{300}, int64_t{0}, int64_t{300}, int64_t{0}}));
  const auto end = s.advance(t0 + 300ms);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0].batch.remove_if_present, std::vector<std::string>{"w"});
  EXPECT_EQ(s.state(), ScheduleState::Finished);
}

TEST(SchedulePlan, ASineWaveStaysBetweenMinAndMax) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"proxy":"p","kind":"wave","attribute":"rate","min":100,"max":200,"period_ms":"1s","toxic":{"type":"bandwidth"}})"), t0);
  const auto values = play(s, t0 + 3s);
  ASSERT_GT(values.size(), 20u);
  int64_t lo = 1000, hi = 0;
  for (const auto& v : values) lo = std::min(lo, std::get<int64_t>(v)), hi = std::max(hi, std::get<int64_t>(v));
  EXPECT_EQ(lo, 100);
  EXPECT_EQ(hi, 200);
  EXPECT_FALSE(s.done()) << "no duration: until cancelled";
}

TEST(SchedulePlan, ATimelinePlaysItsStepsEachPassAndCleansUpAtTheEnd) {
  const TimePoint t0 = TimePoint(1h);
  Schedule s(decode(R"({"name":"t","proxy":"p","kind":"timeline","repeat":2,"period_ms":100,"steps":[
      {"at_ms":50,"action":"disable"},
      {"at_ms":0,"action":"add","toxic":{"name":"lag","type":"latency","attributes":{"latency":5}}},
      {"at_ms":20,"action":"update","toxic":"lag","attributes":{"latency":50},"toxicity":0.5},
      {"at_ms":30,"action":"cut"}]})"), t0);
  std::vector<std::pair<Nanos, std::string>> seen;
  while (auto at = s.next_at())
    for (const auto& t : s.advance(*at)) seen.emplace_back(*at - t0, t.phase);
  ASSERT_EQ(seen.size(), 9u) << "4 steps x 2 passes, then the clean-up";
  EXPECT_EQ(seen[0], (std::pair<Nanos, std::string>{0ms, "step 1/4 (add)"}));
  EXPECT_EQ(seen[3], (std::pair<Nanos, std::string>{50ms, "step 4/4 (disable)"}));
  EXPECT_EQ(seen[4], (std::pair<Nanos, std::string>{100ms, "step 1/4 (add)"}));
  EXPECT_EQ(seen[8].second, "finished");
  EXPECT_EQ(s.state(), ScheduleState::Finished);
}

TEST(SchedulePlan, CancellingATimelineRemovesWhatItAddedAndEnablesWhatItDisabled) {
  Schedule s(decode(R"({"name":"t","proxy":"p","kind":"timeline","repeat":0,"period_ms":1000,"steps":[
      {"at_ms":0,"action":"add","toxic":{"type":"noop"}},{"at_ms":10,"action":"disable"}]})"), TimePoint(1h));
  s.advance(TimePoint(1h) + 10ms);
  const ToxicBatch undo = s.cancel();
  EXPECT_EQ(undo.remove_if_present, std::vector<std::string>{"t_1"});
  EXPECT_EQ(undo.enabled, true);
}

TEST(ScheduleDecode, DefaultsFollowTheOperatorScripts) {
  const ScheduleSpec s = decode(R"({"proxy":"db","kind":"flap"})");
  EXPECT_EQ(s.name, "db_flap");
  EXPECT_EQ(s.mode, FlapMode::Timeout);
  EXPECT_EQ(s.up, 15s);
  EXPECT_EQ(s.down, 15s);
  EXPECT_EQ(s.timeout_ms, 30000);
  EXPECT_EQ(s.streams.size(), 2u);
  EXPECT_EQ(s.iterations, 0);
}

TEST(ScheduleDecode, RefusalsNameFieldValueAndAllowed) {
  auto error = [](const std::string& body) {
    try {
      decode(body);
    } catch (const ApiError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error(R"({"proxy":"p","kind":"flap","up_ms":"soon"})"),
            "invalid value for up_ms: \"soon\" (allowed: whole milliseconds from 1 to 31536000000, or a text such as "
            "\"250ms\", \"15s\", \"2m\")");
  EXPECT_EQ(error(R"({"proxy":"p","kind":"flap","stream":"sideways"})"),
            "invalid schedule field \"stream\": \"sideways\" (one of up, down, both)");
  EXPECT_EQ(error(R"({"proxy":"p","kind":"flap","iterations":-1})"),
            "invalid schedule field \"iterations\": -1 (a whole number from 0 (until cancelled) to 1000000000)");
  EXPECT_NE(error(R"({"kind":"flap"})").find("proxy"), std::string::npos);
  EXPECT_EQ(error(R"({"proxy":"p","kind":"ramp","toxic":{"type":"latency"},"attribute":"lag","from":0,"to":1,"duration_ms":10})"),
            "invalid schedule field \"attribute\": \"lag\" (latency has no such numeric attribute; allowed: latency, jitter, correlation, toxicity)");
  EXPECT_EQ(error(R"({"proxy":"p","kind":"ramp","toxic":{"type":"bandwidth"},"attribute":"rate","from":0,"to":-5,"duration_ms":10})"),
            "invalid schedule range: invalid value for bandwidth attribute rate: -5 (must be 0 or more, in KB/s; at most 100000000)");
  EXPECT_NE(error(R"({"proxy":"p","kind":"wave","toxic":"x","attribute":"toxicity","min":0.5,"max":0.2,"period_ms":100})").find("max"),
            std::string::npos);
  EXPECT_NE(error(R"({"proxy":"p","kind":"timeline"})").find("steps"), std::string::npos);
  EXPECT_EQ(error(R"({"proxy":"p","kind":"timeline","steps":[{"at_ms":0,"action":"explode"}]})"),
            "invalid schedule field \"steps[0].action\": \"explode\" (one of add, update, remove, disable, enable, cut)");
  EXPECT_NE(error(R"({"proxy":"p","kind":"timeline","period_ms":5,"steps":[{"at_ms":10,"action":"cut"}]})").find("period_ms"),
            std::string::npos);
}

}  // namespace
}  // namespace faultline
