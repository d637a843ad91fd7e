#pragma once
// The delays a latency toxic draws: latency plus jitter times a standard
// variate (mean 0, standard deviation 1, except uniform, below) of the
// chosen distribution, the choices netem offers:
//   uniform       in [-1, 1): Toxiproxy's jitter, latency ± jitter
//   normal        Gaussian
//   pareto        Pareto with shape 3 (netem's table), shifted and scaled to
//                 mean 0 and deviation 1: a floor just under the mean and a
//                 long right tail
//   paretonormal  a normal body with a Pareto tail: 3/4 normal plus 1/4
//                 Pareto, rescaled to deviation 1
// `correlation` (0 to 1) links each draw to the one before through a
// Gaussian AR(1) process whose values are mapped to the distribution, so the
// distribution itself is unchanged (netem's correlation shifts it).
#include <cstdint>
#include <string_view>

#include "engine/Clock.h"
#include "util/Random.h"

namespace faultline {

enum class LatencyShape { Uniform, Normal, Pareto, ParetoNormal };
LatencyShape latency_shape(std::string_view name);  // unknown names: Uniform

class LatencyDistribution {
 public:
  // A standard variate of `shape`, correlated with the previous draw.
  double next(LatencyShape shape, double correlation, Rng& rng);
  // A jitter of `jitter_ms`: uniform and uncorrelated, Toxiproxy's offset in
  // [-jitter, +jitter) at microsecond resolution; otherwise jitter times the
  // next variate, cut at ten years either way (a year of jitter times a
  // Pareto tail must not overflow a nanosecond clock).
  Nanos jitter(int64_t jitter_ms, LatencyShape shape, double correlation, Rng& rng);

 private:
  double normal(Rng& rng);
  double correlated_normal(double correlation, Rng& rng);

  double last_ = 0;  // the previous Gaussian state
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace faultline
