#include "toxics/LatencyDistribution.h"

#include <cmath>

namespace faultline {
namespace {

constexpr double kParetoShape = 3.0;
// Pareto(shape 3, scale 1): mean 3/2, variance 3/4.
const double kParetoMean = kParetoShape / (kParetoShape - 1);
const double kParetoDeviation = std::sqrt(kParetoShape / ((kParetoShape - 1) * (kParetoShape - 1) * (kParetoShape - 2)));
// 3/4 N + 1/4 P, both of deviation 1 and independent: deviation sqrt(9/16 + 1/16).
const double kMixDeviation = std::sqrt(0.75 * 0.75 + 0.25 * 0.25);

double standard_pareto(double u) {  // u in [0, 1)
  const double x = std::pow(1.0 - u, -1.0 / kParetoShape);
  return (x - kParetoMean) / kParetoDeviation;
}

// The standard normal CDF.
double phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace

LatencyShape latency_shape(std::string_view name) {
  if (name == "normal") return LatencyShape::Normal;
  if (name == "pareto") return LatencyShape::Pareto;
  if (name == "paretonormal") return LatencyShape::ParetoNormal;
  return LatencyShape::Uniform;
}

double LatencyDistribution::normal(Rng& rng) {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Box-Muller, both values used.
  const double u1 = 1.0 - rng.unit(), u2 = rng.unit();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2 * M_PI * u2);
  has_spare_ = true;
  return r * std::cos(2 * M_PI * u2);
}

double LatencyDistribution::correlated_normal(double correlation, Rng& rng) {
  const double e = normal(rng);
  last_ = correlation > 0 ? correlation * last_ + std::sqrt(1 - correlation * correlation) * e : e;
  return last_;
}

double LatencyDistribution::next(LatencyShape shape, double correlation, Rng& rng) {
  if (shape == LatencyShape::Uniform && correlation <= 0) return 2 * rng.unit() - 1;  // exactly the old jitter draw
  const double z = correlated_normal(correlation, rng);
  const double u = std::fmin(phi(z), 1.0 - 1e-12);  // the same draw as a uniform
  switch (shape) {
    case LatencyShape::Uniform: return 2 * u - 1;
    case LatencyShape::Normal: return z;
    case LatencyShape::Pareto: return standard_pareto(u);
    case LatencyShape::ParetoNormal: return (0.75 * z + 0.25 * standard_pareto(rng.unit())) / kMixDeviation;
  }
  return 0;
}

Nanos LatencyDistribution::jitter(int64_t jitter_ms, LatencyShape shape, double correlation, Rng& rng) {
  if (jitter_ms <= 0) return Nanos(0);
  if (shape == LatencyShape::Uniform && correlation <= 0) {
    const int64_t span_us = 2 * jitter_ms * 1000;
    const int64_t offset_us = static_cast<int64_t>(rng.below(static_cast<uint64_t>(span_us))) - jitter_ms * 1000;
    return Micros(offset_us);
  }
  constexpr double kLimitNs = 10.0 * 365 * 24 * 3600 * 1e9;
  const double offset_ns = next(shape, correlation, rng) * static_cast<double>(jitter_ms) * 1e6;
  return Nanos(static_cast<int64_t>(std::llround(std::fmax(-kLimitNs, std::fmin(kLimitNs, offset_ns)))));
}

}  // namespace faultline
