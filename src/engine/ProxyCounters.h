#pragma once
// The figures of one proxy, from its creation until it is deleted: they go
// on counting across disable/enable, so /faultline/stats and /metrics never
// restart while the proxy exists. The event loops add to them without locks.
#include <atomic>
#include <cstdint>

#include "engine/HttpRequestStats.h"
#include "model/ChaosEvent.h"
#include "model/Direction.h"

namespace faultline {

struct DirectionCounters {
  std::atomic<uint64_t> bytes_received{0};  // read from the direction's source
  std::atomic<uint64_t> bytes_sent{0};      // written to its destination
};

struct ProxyCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<int64_t> connections_active{0};
  std::atomic<int64_t> connections_in_kernel{0};  // -fast-path bpf: a direction of theirs is redirected by the kernel now
  std::atomic<uint64_t> upstream_connect_failures{0};
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> upstream_connect_nanos{0};  // total time spent connecting, for the mean
  DirectionCounters directions[2];
  std::atomic<uint64_t> chaos_events[kChaosEventKinds] = {};  // by ChaosEventKind
  LazyHttpRequestStats http_requests;  // requests HTTP toxics framed, by status

  DirectionCounters& counters(Direction d) { return directions[index_of(d)]; }
  const DirectionCounters& counters(Direction d) const { return directions[index_of(d)]; }
};

}  // namespace faultline
