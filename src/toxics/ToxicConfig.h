#pragma once
// The data plane's view of a toxic: an immutable snapshot shared by the event
// loops. Updating a toxic publishes a new snapshot with the same id.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/ToxicSpec.h"
#include "toxics/FaultTally.h"
#include "toxics/ProxyWideState.h"

namespace faultline {

struct ToxicConfig {
  uint64_t id = 0;                  // the same for every snapshot of one toxic
  uint64_t toxicity_generation = 0; // changes when toxicity is set: connections compare their draw again
  ToxicSpec spec;
  // Connections this toxic has applied to (shared by all its snapshots, for /metrics).
  std::shared_ptr<std::atomic<uint64_t>> activations = std::make_shared<std::atomic<uint64_t>>(0);
  // What the toxic shares across all its connections and loops (shared by all its snapshots).
  std::shared_ptr<ProxyWideState> proxy_wide = std::make_shared<ProxyWideState>();
  // Per-request faults (the HTTP toxics), by kind and status (shared by all its snapshots, for /metrics).
  std::shared_ptr<FaultTally> fault_counts = std::make_shared<FaultTally>();
};

using ToxicConfigPtr = std::shared_ptr<const ToxicConfig>;
using ToxicChainConfig = std::vector<ToxicConfigPtr>;

}  // namespace faultline

namespace faultline {

// Both directions' toxics of one proxy, as one versioned step: a batch of
// changes reaches every connection at once, and a loop never goes back to an
// older version.
struct ToxicSnapshot {
  uint64_t version = 0;
  ToxicChainConfig chains[2];  // by index_of(Direction)
  const ToxicChainConfig& chain(Direction d) const { return chains[index_of(d)]; }
};
using ToxicSnapshotPtr = std::shared_ptr<const ToxicSnapshot>;

}  // namespace faultline
