#pragma once
// Counts API requests by route, method and status for /metrics.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace faultline {

class ApiStats {
 public:
  using Key = std::tuple<std::string, std::string, int>;  // method, route, status
  void count(const std::string& method, const std::string& route, int status) {
    std::lock_guard lock(mutex_);
    ++counts_[{method, route, status}];
  }
  std::map<Key, uint64_t> snapshot() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<Key, uint64_t> counts_;
};

}  // namespace faultline
