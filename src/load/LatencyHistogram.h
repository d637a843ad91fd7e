#pragma once
// A high-dynamic-range latency histogram: values from 1 us to 60 s kept to a
// fixed number of significant decimal digits (3 for final figures, 2 for the
// short intervals, which are many and must stay small). Buckets double in
// width; each bucket is split linearly into enough sub-buckets for the
// precision, so a value's bucket is found with one count-leading-zeros.
// (The layout is Gil Tene's HdrHistogram; Debian packages no C++ version.)
#include <cstddef>
#include <cstdint>
#include <vector>

namespace faultline::load {

class LatencyHistogram {
 public:
  static constexpr int64_t kLowestUs = 1;
  static constexpr int64_t kHighestUs = 60'000'000;  // larger values are recorded as 60 s

  explicit LatencyHistogram(int significant_digits = 3);

  void record(int64_t value_us, uint64_t count = 1);
  void add(const LatencyHistogram& other);  // same precision
  void clear();

  uint64_t count() const { return total_; }
  int64_t max() const { return total_ ? max_ : 0; }
  int64_t min() const { return total_ ? min_ : 0; }
  double mean() const;
  // The smallest recorded value with at least `percentile` % of the values
  // at or below it (reported at the top of its sub-bucket, as HdrHistogram
  // does, so it is never lower than a recorded value); 0 when empty.
  int64_t percentile(double percentile) const;
  int significant_digits() const { return digits_; }

 private:
  size_t index_of(int64_t value) const;
  int64_t highest_equivalent(size_t index) const;

  int digits_;
  int sub_bucket_half_magnitude_;
  int64_t sub_bucket_count_;
  int64_t sub_bucket_half_;
  int64_t sub_bucket_mask_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ = 0;
  int64_t min_ = INT64_MAX;
  double sum_ = 0;
};

}  // namespace faultline::load
