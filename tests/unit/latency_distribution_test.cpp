// The latency toxic's distributions, checked on their samples: mean,
// standard deviation and tail against what each one is defined to be, and
// correlation that links draws without changing the distribution. Seeded,
// so each run draws the same numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "toxics/LatencyDistribution.h"

namespace faultline {
namespace {

struct Sample {
  double mean = 0, deviation = 0, p01 = 0, p99 = 0, p999 = 0, min = 0, lag1 = 0;
};

Sample draw(LatencyShape shape, double correlation, int n = 200000) {
  Rng rng(42);
  LatencyDistribution d;
  std::vector<double> v(n);
  for (auto& x : v) x = d.next(shape, correlation, rng);
  Sample s;
  for (double x : v) s.mean += x / n;
  for (double x : v) s.deviation += (x - s.mean) * (x - s.mean) / n;
  s.deviation = std::sqrt(s.deviation);
  double lag = 0;
  for (int i = 1; i < n; ++i) lag += (v[i] - s.mean) * (v[i - 1] - s.mean) / (n - 1);
  s.lag1 = lag / (s.deviation * s.deviation);
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.p01 = v[n / 100];
  s.p99 = v[n * 99 / 100];
  s.p999 = v[n * 999 / 1000];
  return s;
}

TEST(LatencyDistribution, UniformIsToxiproxysJitter) {
  const Sample s = draw(LatencyShape::Uniform, 0);
  EXPECT_NEAR(s.mean, 0, 0.01);
  EXPECT_NEAR(s.deviation, 1 / std::sqrt(3.0), 0.01);
  EXPECT_GE(s.min, -1.0);
  EXPECT_NEAR(s.p99, 0.98, 0.01);
}

TEST(LatencyDistribution, NormalHasDeviationOneAndGaussianTails) {
  const Sample s = draw(LatencyShape::Normal, 0);
  EXPECT_NEAR(s.mean, 0, 0.01);
  EXPECT_NEAR(s.deviation, 1, 0.01);
  EXPECT_NEAR(s.p99, 2.326, 0.05);
  EXPECT_NEAR(s.p01, -2.326, 0.05);
  EXPECT_NEAR(s.p999, 3.09, 0.12);
}

TEST(LatencyDistribution, ParetoHasAFloorAndALongRightTail) {
  const Sample s = draw(LatencyShape::Pareto, 0);
  EXPECT_NEAR(s.mean, 0, 0.02);
  EXPECT_NEAR(s.deviation, 1, 0.2) << "shape 3: a finite variance, but no fourth moment, so the sample deviation converges slowly";
  EXPECT_GE(s.min, -0.578) << "nothing below the Pareto's scale: (1 - 1.5) / 0.866";
  // Pareto(3): p99 = 100^(1/3) = 4.64 -> (4.64 - 1.5) / 0.866 = 3.63; p99.9 = 10 -> 9.81.
  EXPECT_NEAR(s.p99, 3.63, 0.1);
  EXPECT_NEAR(s.p999, 9.81, 0.6);
}

TEST(LatencyDistribution, ParetoNormalIsANormalBodyWithAHeavierTail) {
  const Sample s = draw(LatencyShape::ParetoNormal, 0);
  const Sample normal = draw(LatencyShape::Normal, 0);
  EXPECT_NEAR(s.mean, 0, 0.02);
  EXPECT_NEAR(s.deviation, 1, 0.05);
  EXPECT_GT(s.p999, normal.p999 + 0.2) << "the Pareto quarter makes the tail";
  EXPECT_GT(s.p01, normal.p01) << "and a lighter left side";
}

TEST(LatencyDistribution, CorrelationLinksDrawsButKeepsTheDistribution) {
  for (LatencyShape shape : {LatencyShape::Uniform, LatencyShape::Normal, LatencyShape::Pareto}) {
    const Sample independent = draw(shape, 0);
    const Sample linked = draw(shape, 0.8);
    EXPECT_NEAR(independent.lag1, 0, 0.02);
    EXPECT_GT(linked.lag1, 0.6) << "each draw follows the one before";
    EXPECT_NEAR(linked.mean, independent.mean, 0.05);
    EXPECT_NEAR(linked.deviation, independent.deviation, 0.1 * independent.deviation);
    EXPECT_NEAR(linked.p99, independent.p99, 0.15 * std::fabs(independent.p99) + 0.05);
  }
}

}  // namespace
}  // namespace faultline
