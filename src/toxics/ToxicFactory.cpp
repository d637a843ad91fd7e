#include "toxics/ToxicStages.h"

namespace faultline {

std::unique_ptr<ToxicStage> make_noop_stage(ToxicChain& chain, ToxicConfigPtr config) {
  return std::make_unique<ToxicStage>(chain, std::move(config));  // the base stage passes everything on
}

std::unique_ptr<ToxicStage> make_toxic_stage(ToxicChain& chain, ToxicConfigPtr config) {
  switch (config->spec.kind) {
    case ToxicKind::Latency: return make_latency_stage(chain, std::move(config));
    case ToxicKind::Bandwidth: return make_bandwidth_stage(chain, std::move(config));
    case ToxicKind::SlowClose: return make_slow_close_stage(chain, std::move(config));
    case ToxicKind::Timeout: return make_timeout_stage(chain, std::move(config));
    case ToxicKind::ResetPeer: return make_reset_peer_stage(chain, std::move(config));
    case ToxicKind::Slicer: return make_slicer_stage(chain, std::move(config));
    case ToxicKind::LimitData: return make_limit_data_stage(chain, std::move(config));
    case ToxicKind::Noop: break;
  }
  return make_noop_stage(chain, std::move(config));
}

}  // namespace faultline
