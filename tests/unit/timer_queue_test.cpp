#include <gtest/gtest.h>

#include <vector>

#include "engine/TimerQueue.h"

namespace faultline {

TEST(TimerQueue, FiresInDeadlineOrderAndOnlyWhenDue) {
  TimerQueue q;
  std::vector<int> fired;
  Timer a([&] { fired.push_back(1); }), b([&] { fired.push_back(2); }), c([&] { fired.push_back(3); });
  const TimePoint t0{};
  q.arm(b, t0 + Millis(20));
  q.arm(a, t0 + Millis(10));
  q.arm(c, t0 + Millis(30));
  q.run_due(t0 + Millis(25));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_TRUE(c.armed());
  q.run_due(t0 + Millis(30));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, CancelAndRearm) {
  TimerQueue q;
  int count = 0;
  Timer a([&] { ++count; }), b([&] { ++count; });
  const TimePoint t0{};
  q.arm(a, t0 + Millis(10));
  q.arm(b, t0 + Millis(10));
  q.cancel(a);
  q.arm(b, t0 + Millis(50));  // moved later
  q.run_due(t0 + Millis(20));
  EXPECT_EQ(count, 0);
  q.run_due(t0 + Millis(50));
  EXPECT_EQ(count, 1);
  EXPECT_FALSE(a.armed());
}

TEST(TimerQueue, CallbacksMayArmTimers) {
  TimerQueue q;
  int runs = 0;
  Timer t;
  t.set_callback([&] {
    if (++runs < 3) q.arm(t, TimePoint{} + Millis(runs));
  });
  q.arm(t, TimePoint{});
  q.run_due(TimePoint{} + Millis(100));
  EXPECT_EQ(runs, 3);
}

}  // namespace faultline

namespace faultline {

TEST(ManualClock, MovesOnlyWhenToldAndKeepsWallTimeInStep) {
  ManualClock clock;
  const TimePoint start = clock.now();
  const WallTime wall_start = clock.wall_now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now() - wall_start).count(), 1500);
}

TEST(ManualClock, DrivesATimerQueueWithoutSleeping) {
  ManualClock clock;
  TimerQueue timers;
  int fired = 0;
  Timer t([&] { ++fired; });
  timers.arm(t, clock.now() + std::chrono::hours(24));
  timers.run_due(clock.now());
  EXPECT_EQ(fired, 0);
  clock.advance(std::chrono::hours(24));
  timers.run_due(clock.now());
  EXPECT_EQ(fired, 1);
}

}  // namespace faultline
