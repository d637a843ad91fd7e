#pragma once
// The key-value workload shared by redis:// and memcached://: each request
// is a get or a set (weighted by --mix) of a key drawn uniformly from
// --keys, with --payload-byte values.
#include <string>

#include "load/LoadTarget.h"
#include "util/Random.h"

namespace faultline::load {

class KeyValueWorkload {
 public:
  KeyValueWorkload(const ProtocolOptions& o, uint64_t seed)
      : mix_(o.mix), keys_(o.keys ? o.keys : 1), value_(o.payload, 'v'), rng_(seed) {}

  bool next_is_set() { return rng_.below(static_cast<uint64_t>(mix_.get + mix_.set)) >= static_cast<uint64_t>(mix_.get); }
  std::string next_key() { return "faultline:" + std::to_string(rng_.below(keys_)); }
  const std::string& value() const { return value_; }

 private:
  OperationMix mix_;
  uint64_t keys_;
  std::string value_;
  Rng rng_;
};

}  // namespace faultline::load
