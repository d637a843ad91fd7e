// Fault windows from events, the baseline band, time to impact and time to
// recovery, on made-up slices.
#include <gtest/gtest.h>

#include "load/FaultWindows.h"

namespace faultline::load {
namespace {

constexpr int64_t kStartUs = 1'000'000'000'000;

nlohmann::json event(const std::string& type, double at_s, const std::string& toxic = "") {
  nlohmann::json e = {{"type", type}, {"proxy", "db"}, {"time_us", kStartUs + static_cast<int64_t>(at_s * 1e6)}};
  if (!toxic.empty()) {
    e["toxic"] = toxic;
    e["toxic_type"] = "latency";
    e["stream"] = "downstream";
  }
  return e;
}

// 100 slices (10 s): healthy, except `bad` slices (by index) full of errors.
std::vector<SliceFigures> slices_with(const std::vector<int>& bad) {
  std::vector<SliceFigures> out;
  for (int i = 0; i < 100; ++i) {
    SliceFigures s;
    s.start_s = i * 0.1;
    s.ok = 100;
    s.p99_us = 300;
    if (std::find(bad.begin(), bad.end(), i) != bad.end()) {
      s.ok = 10;
      s.errors = 90;
    }
    out.push_back(s);
  }
  return out;
}

TEST(FaultWindows, EventsOpenAndCloseWindows) {
  FaultTracker t(kStartUs);
  t.already_active("cache", "disabled", "proxy disabled");
  t.observe(event("toxic_added", 2.0, "lag"));
  t.observe(event("toxic_updated", 2.5, "lag"));
  EXPECT_EQ(t.active().size(), 2u);
  t.observe(event("toxic_removed", 4.0, "lag"));
  t.observe(event("proxy_disabled", 5.0));
  t.observe(event("proxy_deleted", 6.0));
  t.observe(event("connections_cut", 7.0));
  const auto w = t.windows();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_TRUE(w[0].active_at_start);
  EXPECT_FALSE(w[0].off_s);
  EXPECT_EQ(w[1].fault, "toxic lag (latency, downstream)");
  EXPECT_DOUBLE_EQ(w[1].on_s, 2.0);
  EXPECT_DOUBLE_EQ(*w[1].off_s, 4.0);
  EXPECT_DOUBLE_EQ(*w[2].off_s, 6.0) << "deleting the proxy ends its faults";
  EXPECT_DOUBLE_EQ(*w[3].off_s, 7.0);
  EXPECT_EQ(t.active(), std::vector<std::string>{"cache: proxy disabled"});
}

TEST(FaultWindows, TheBandComesFromTheWarmupAndToleratesNoise) {
  auto warm = slices_with({});
  warm.resize(20);
  warm[5].p99_us = 900;
  const BaselineBand band = measure_baseline(warm);
  ASSERT_TRUE(band.measured);
  EXPECT_EQ(band.p99_median_us, 300);
  EXPECT_GE(band.p99_limit_us, 5300);
  EXPECT_NEAR(band.error_rate_limit, 0.01, 1e-9);
  SliceFigures slow = warm[0];
  slow.p99_us = 50'000;
  EXPECT_FALSE(in_band(slow, band));
  SliceFigures stalled = warm[0];
  stalled.ok = 0;
  stalled.oldest_pending_us = 800'000;
  EXPECT_FALSE(in_band(stalled, band)) << "nothing coming back is an impact";
  EXPECT_TRUE(in_band(warm[5], band));
  EXPECT_FALSE(measure_baseline({}).measured);
}

TEST(FaultWindows, ImpactAndRecoveryAreMeasuredFromTheSlices) {
  // Fault on at 3.05 s, off at 5.0 s; errors from 3.2 s to 5.2 s.
  std::vector<int> bad;
  for (int i = 32; i < 52; ++i) bad.push_back(i);
  const auto slices = slices_with(bad);
  const BaselineBand band = measure_baseline({slices.begin(), slices.begin() + 20});
  FaultTracker t(kStartUs);
  t.observe(event("proxy_disabled", 3.05));
  t.observe(event("proxy_enabled", 5.0));
  auto windows = t.windows();
  analyse(windows, slices, band, 1.0);
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_NEAR(*windows[0].time_to_impact_ms, 150, 1e-6);
  EXPECT_NEAR(*windows[0].time_to_recovery_ms, 200, 1e-6);
}

TEST(FaultWindows, MissingFiguresSayWhy) {
  const auto healthy = slices_with({});
  const BaselineBand band = measure_baseline({healthy.begin(), healthy.begin() + 20});
  FaultTracker t(kStartUs);
  t.observe(event("toxic_added", 3.0, "harmless"));
  t.observe(event("toxic_removed", 4.0, "harmless"));
  t.observe(event("proxy_disabled", 9.5));
  auto windows = t.windows();
  auto slices = slices_with({96, 97, 98, 99});
  analyse(windows, slices, band, 1.0);
  EXPECT_EQ(windows[0].note, "no impact seen");
  EXPECT_FALSE(windows[0].time_to_recovery_ms);
  EXPECT_EQ(windows[1].note, "still on at the end");
  EXPECT_TRUE(windows[1].time_to_impact_ms);
}

TEST(FaultWindows, ANextFaultShortensTheRecoveryWindow) {
  std::vector<int> bad;
  for (int i = 30; i < 40; ++i) bad.push_back(i);
  for (int i = 45; i < 60; ++i) bad.push_back(i);
  const auto slices = slices_with(bad);
  const BaselineBand band = measure_baseline({slices.begin(), slices.begin() + 20});
  FaultTracker t(kStartUs);
  t.observe(event("proxy_disabled", 3.0));
  t.observe(event("proxy_enabled", 4.0));
  t.observe(event("toxic_added", 4.5, "lag"));
  t.observe(event("toxic_removed", 6.0, "lag"));
  auto windows = t.windows();
  analyse(windows, slices, band, 1.0);
  ASSERT_TRUE(windows[0].time_to_recovery_ms) << windows[0].note;
  EXPECT_NEAR(*windows[0].time_to_recovery_ms, 0, 1e-6) << "in band from 4.0 s until the next fault at 4.5 s";
}

}  // namespace
}  // namespace faultline::load
