#pragma once
// Constructors of the per-connection stages, one per toxic type (one file each).
#include <memory>

#include "toxics/ToxicChain.h"

namespace faultline {

std::unique_ptr<ToxicStage> make_latency_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_bandwidth_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_slow_close_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_timeout_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_reset_peer_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_slicer_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_limit_data_stage(ToxicChain& chain, ToxicConfigPtr config);
std::unique_ptr<ToxicStage> make_noop_stage(ToxicChain& chain, ToxicConfigPtr config);

}  // namespace faultline
