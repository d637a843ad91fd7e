#pragma once
// How many times one toxic did each kind of fault, by the status the client
// got ("error", "503"), for /metrics. Shared by every snapshot of the toxic
// and added to from every event loop; toxics that fault per connection leave
// it empty (their faults are counted as chaos events).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace faultline {

class FaultTally {
 public:
  using Key = std::pair<std::string, std::string>;  // (fault, status)
  void add(const std::string& fault, const std::string& status) {
    std::lock_guard lock(mutex_);
    ++counts_[{fault, status}];
  }
  std::map<Key, uint64_t> counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<Key, uint64_t> counts_;
};

}  // namespace faultline
