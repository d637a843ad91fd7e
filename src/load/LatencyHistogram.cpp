#include "load/LatencyHistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace faultline::load {

LatencyHistogram::LatencyHistogram(int significant_digits) : digits_(significant_digits) {
  if (digits_ < 1 || digits_ > 5) throw std::invalid_argument("significant digits must be 1 to 5");
  // Enough linear sub-buckets to tell 10^digits values apart within one doubling.
  const auto needed = static_cast<uint64_t>(2 * std::pow(10, digits_));
  sub_bucket_count_ = static_cast<int64_t>(std::bit_ceil(needed));
  sub_bucket_half_magnitude_ = std::countr_zero(static_cast<uint64_t>(sub_bucket_count_)) - 1;
  sub_bucket_half_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = sub_bucket_count_ - 1;
  int buckets = 1;
  for (int64_t smallest_untrackable = sub_bucket_count_; smallest_untrackable <= kHighestUs; smallest_untrackable <<= 1)
    ++buckets;
  counts_.assign(static_cast<size_t>((buckets + 1) * sub_bucket_half_), 0);
}

size_t LatencyHistogram::index_of(int64_t value) const {
  const int bucket = 64 - std::countl_zero(static_cast<uint64_t>(value | sub_bucket_mask_)) - (sub_bucket_half_magnitude_ + 1);
  const int64_t sub_bucket = value >> bucket;
  return static_cast<size_t>(((bucket + 1) << sub_bucket_half_magnitude_) + (sub_bucket - sub_bucket_half_));
}

int64_t LatencyHistogram::highest_equivalent(size_t index) const {
  // The inverse of index_of: the bucket and sub-bucket of `index`, then the
  // last value that lands in it.
  int bucket = static_cast<int>(index >> sub_bucket_half_magnitude_) - 1;
  int64_t sub_bucket = static_cast<int64_t>(index & static_cast<size_t>(sub_bucket_half_ - 1)) + sub_bucket_half_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_;
    bucket = 0;
  }
  const int64_t lowest = sub_bucket << bucket;
  return lowest + (int64_t{1} << bucket) - 1;
}

void LatencyHistogram::record(int64_t value_us, uint64_t count) {
  const int64_t v = std::clamp(value_us, int64_t{0}, kHighestUs);
  counts_[index_of(v)] += count;
  total_ += count;
  max_ = std::max(max_, v);
  min_ = std::min(min_, v);
  sum_ += static_cast<double>(v) * static_cast<double>(count);
}

void LatencyHistogram::add(const LatencyHistogram& other) {
  if (other.digits_ != digits_) throw std::invalid_argument("histograms of different precision");
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  if (other.total_) {
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
  }
  sum_ += other.sum_;
}

void LatencyHistogram::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  max_ = 0;
  min_ = INT64_MAX;
  sum_ = 0;
}

double LatencyHistogram::mean() const { return total_ ? sum_ / static_cast<double>(total_) : 0; }

int64_t LatencyHistogram::percentile(double percentile) const {
  if (total_ == 0) return 0;
  const double wanted = std::clamp(percentile, 0.0, 100.0) / 100.0 * static_cast<double>(total_);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(wanted - 1e-9)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_equivalent(i), max_);
  }
  return max_;
}

}  // namespace faultline::load
