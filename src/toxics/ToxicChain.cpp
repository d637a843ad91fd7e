#include "toxics/ToxicChain.h"

#include <algorithm>

namespace faultline {

ToxicStage::ToxicStage(ToxicChain& chain, ToxicConfigPtr config) : chain_(chain), config_(std::move(config)) {}

void ToxicStage::pass(Chunk chunk) { chain_.deliver(chain_.index_of(this) + 1, std::move(chunk)); }
void ToxicStage::pass_eof() { chain_.deliver_eof(chain_.index_of(this) + 1); }
ToxicContext& ToxicStage::context() { return chain_.context(); }

ToxicChain::~ToxicChain() = default;

size_t ToxicChain::index_of(const ToxicStage* stage) const {
  for (size_t i = 0; i < stages_.size(); ++i)
    if (stages_[i].get() == stage) return i;
  return stages_.size();
}

void ToxicChain::deliver(size_t index, Chunk chunk) {
  while (index < stages_.size() && !stages_[index]->active_) ++index;
  if (index >= stages_.size()) context_.chain_output(std::move(chunk));
  else stages_[index]->on_chunk(std::move(chunk));
}

void ToxicChain::deliver_eof(size_t index) {
  while (index < stages_.size() && !stages_[index]->active_) ++index;
  if (index >= stages_.size()) context_.chain_output_eof();
  else stages_[index]->on_eof();
}

AcceptVerdict ToxicChain::before_connect() {
  AcceptVerdict verdict;
  for (auto& stage : stages_) {
    if (!stage->active_) continue;
    const AcceptVerdict v = stage->before_connect();
    if (v.action > verdict.action) verdict = v;
    else if (v.action == verdict.action && v.delay > verdict.delay) verdict.delay = v.delay;
  }
  return verdict;
}

void ToxicChain::output_drained() {
  for (size_t i = 0; i < stages_.size(); ++i)
    if (stages_[i]->active_) stages_[i]->output_drained();
}

bool ToxicChain::has_active_stage() const {
  return std::any_of(stages_.begin(), stages_.end(), [](const auto& s) { return s->active_; });
}

size_t ToxicChain::held_bytes() const {
  size_t total = 0;
  for (const auto& s : stages_) total += s->held_bytes();
  return total;
}

void ToxicChain::decide_activity(ToxicStage& stage) {
  const ToxicConfig& cfg = stage.config();
  const float toxicity = cfg.spec.toxicity;
  // 0 never applies and 1 always does, exactly; in between, the connection's draw decides.
  const bool drawn = cfg.spec.toxic_type().per_request_toxicity || toxicity >= 1.0f || (toxicity > 0.0f && stage.draw_ < toxicity);
  stage.active_ = drawn && (cfg.spec.clients.empty() || cfg.spec.clients.contains(context_.connection().client));
  if (stage.active_) {
    cfg.activations->fetch_add(1, std::memory_order_relaxed);
    context_.chaos_event(ChaosEventKind::ToxicApplied, cfg);
  }
}

void ToxicChain::apply(const ToxicChainConfig& toxics) {
  // 1. Toxics that are gone let go of what they hold, in chain order.
  for (size_t i = 0; i < stages_.size();) {
    const uint64_t id = stages_[i]->config().id;
    const bool kept = std::any_of(toxics.begin(), toxics.end(), [&](const auto& t) { return t->id == id; });
    if (kept) {
      ++i;
      continue;
    }
    if (stages_[i]->active_) stages_[i]->stop();
    stages_.erase(stages_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // 2. Updated toxics take their new values, in place.
  for (auto& stage : stages_) {
    auto cfg = *std::find_if(toxics.begin(), toxics.end(), [&](const auto& t) { return t->id == stage->config().id; });
    if (stage->config_ == cfg) continue;
    const bool toxicity_set = stage->config_->toxicity_generation != cfg->toxicity_generation;
    stage->config_ = cfg;
    const bool was_active = stage->active_;
    if (toxicity_set) decide_activity(*stage);
    if (was_active && !stage->active_) {
      stage->active_ = true;  // while it lets go of what it holds
      stage->stop();
      stage->active_ = false;
    } else if (!was_active && stage->active_) {
      stage->start();
    } else if (stage->active_) {
      stage->reconfigured();
    }
  }
  // 3. New toxics join where the list puts them (at the end, but for HTTP
  // toxics on the response chain: see Registry::snapshot_of) and start once
  // the chain is complete.
  std::vector<ToxicStage*> fresh;
  std::vector<std::unique_ptr<ToxicStage>> ordered;
  ordered.reserve(toxics.size());
  for (const auto& cfg : toxics) {
    auto existing = std::find_if(stages_.begin(), stages_.end(), [&](const auto& s) { return s && s->config().id == cfg->id; });
    if (existing != stages_.end()) {
      ordered.push_back(std::move(*existing));
      continue;
    }
    ordered.push_back(cfg->spec.toxic_type().make_stage(*this, cfg));
    ToxicStage& stage = *ordered.back();
    const uint64_t seed = context_.random_seed(*cfg);
    stage.rng_.reseed(seed);
    stage.draw_ = Rng(seed ^ 0x70C1C17ULL).unit();
    fresh.push_back(&stage);
  }
  stages_ = std::move(ordered);
  for (ToxicStage* stage : fresh) {
    decide_activity(*stage);
    if (stage->active_) stage->start();
  }
}

}  // namespace faultline
