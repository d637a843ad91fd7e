#pragma once
// What the event loops share about one running proxy: its identity, where it
// forwards to, and its counters. A proxy gets a new runtime each time it
// starts listening (its upstream and listen address cannot change while it
// runs), so everything here but the counters is immutable.
#include <atomic>
#include <cstdint>
#include <string>

#include "model/Direction.h"

namespace faultline {

struct DirectionCounters {
  std::atomic<uint64_t> bytes_received{0};  // read from the direction's source
  std::atomic<uint64_t> bytes_sent{0};      // written to its destination
};

struct ProxyRuntime {
  uint64_t id = 0;
  std::string name;
  std::string listen;    // the bound address
  std::string upstream;  // as configured; resolved at each connect
  uint64_t random_seed = 0;  // from the server seed and the proxy name

  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<int64_t> connections_active{0};
  std::atomic<uint64_t> upstream_connect_failures{0};
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> upstream_connect_nanos{0};  // total time spent connecting, for the mean
  DirectionCounters directions[2];

  DirectionCounters& counters(Direction d) { return directions[index_of(d)]; }
};

}  // namespace faultline
