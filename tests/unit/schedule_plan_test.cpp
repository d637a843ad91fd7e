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
}

}  // namespace
}  // namespace faultline
