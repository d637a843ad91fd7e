// The load generator's HDR histogram: exact below 2048 us, 3 significant
// digits above, percentiles never below a recorded value, merging.
#include <gtest/gtest.h>

#include <random>

#include "load/LatencyHistogram.h"

namespace faultline::load {
namespace {

TEST(LatencyHistogram, SmallValuesAreExactAndPercentilesRankCorrectly) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 100);
  EXPECT_EQ(h.percentile(50), 50);
  EXPECT_EQ(h.percentile(99), 99);
  EXPECT_EQ(h.percentile(99.9), 100);
  EXPECT_EQ(h.percentile(100), 100);
  EXPECT_EQ(h.percentile(0), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, LargeValuesKeepThreeSignificantDigits) {
  LatencyHistogram h;
  std::mt19937_64 rng(7);
  std::vector<int64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<int64_t>(std::exp(std::uniform_real_distribution<double>(0, std::log(6e7))(rng)));
    values.push_back(std::max<int64_t>(1, v));
    h.record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const int64_t exact = values[static_cast<size_t>(std::ceil(p / 100 * values.size() - 1e-9)) - 1];
    const int64_t got = h.percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * 1.001 + 1) << p;
  }
}

TEST(LatencyHistogram, ValuesOutsideTheRangeAreClampedAndMergingAddsCounts) {
  LatencyHistogram a, b;
  a.record(-5);
  a.record(100'000'000'000);
  EXPECT_EQ(a.max(), LatencyHistogram::kHighestUs);
  b.record(1500, 3);
  a.add(b);
  EXPECT_EQ(a.count(), 5u);
  EXPECT_EQ(a.percentile(50), 1500);
  LatencyHistogram coarse(2);
  EXPECT_THROW(a.add(coarse), std::invalid_argument);
  a.clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(99), 0);
}

TEST(LatencyHistogram, TwoDigitHistogramsStaySmallAndWithinOnePercent) {
  LatencyHistogram h(2);
  h.record(50'123);
  EXPECT_GE(h.percentile(50), 50'123);
  EXPECT_LE(h.percentile(50), 50'123 * 101 / 100);
}

}  // namespace
}  // namespace faultline::load
