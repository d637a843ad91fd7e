#pragma once
// What the event loops share about one running proxy: its identity, where it
// forwards to, and its counters. A proxy gets a new runtime each time it
// starts listening (its upstream and listen address cannot change while it
// runs), so everything here is immutable but the counters, which belong to
// the proxy and outlive the runtime.
#include <cstdint>
#include <memory>
#include <string>

#include "engine/ProxyCounters.h"

namespace faultline {

struct ProxyRuntime {
  uint64_t id = 0;
  std::string name;
  std::string listen;    // the bound address
  std::string upstream;  // as configured; resolved at each connect
  std::string protocol = "tcp";
  uint64_t random_seed = 0;  // from the server seed and the proxy name
  std::shared_ptr<ProxyCounters> totals = std::make_shared<ProxyCounters>();
  ChaosObserver* chaos_observer = nullptr;  // the event stream's, for faults worth an event

  ProxyCounters& stats() { return *totals; }
  const ProxyCounters& stats() const { return *totals; }

  // The counters when this runtime started, so that the figures of this
  // run alone can be told (Toxiproxy's byte counters are labelled with the
  // listen and upstream addresses, which may differ from run to run).
  void mark_start() {
    accepted_at_start = totals->connections_accepted.load();
    for (int d = 0; d < 2; ++d) {
      received_at_start[d] = totals->directions[d].bytes_received.load();
      sent_at_start[d] = totals->directions[d].bytes_sent.load();
    }
  }
  uint64_t accepted_this_run() const { return totals->connections_accepted.load() - accepted_at_start; }
  uint64_t received_this_run(Direction d) const {
    return totals->counters(d).bytes_received.load() - received_at_start[index_of(d)];
  }
  uint64_t sent_this_run(Direction d) const { return totals->counters(d).bytes_sent.load() - sent_at_start[index_of(d)]; }

 private:
  uint64_t accepted_at_start = 0;
  uint64_t received_at_start[2] = {0, 0};
  uint64_t sent_at_start[2] = {0, 0};
};

}  // namespace faultline
