#pragma once
// The toxics of one direction of one connection, in the order they were added.
#include <memory>
#include <vector>

#include "toxics/ToxicStage.h"

namespace faultline {

class ToxicChain {
 public:
  explicit ToxicChain(ChainOwner& owner) : owner_(owner) {}
  ~ToxicChain();

  // Brings the chain in line with the direction's current toxics: removed ones
  // let go of what they hold and stop, updated ones take their new values,
  // new ones join at the end. Toxicity is drawn when a toxic first meets the
  // connection and again only when its toxicity changes.
  void apply(const ToxicChainConfig& toxics);

  void push(Chunk chunk) { deliver(0, std::move(chunk)); }
  void push_eof() { deliver_eof(0); }

  void output_drained();  // the owner wrote everything: stages waiting for room go on
  bool has_active_stage() const;
  bool has_stages() const { return !stages_.empty(); }
  size_t held_bytes() const;
  ChainOwner& owner() { return owner_; }

 private:
  friend class ToxicStage;
  size_t index_of(const ToxicStage* stage) const;
  void deliver(size_t index, Chunk chunk);
  void deliver_eof(size_t index);
  void draw_toxicity(ToxicStage& stage);

  ChainOwner& owner_;
  std::vector<std::unique_ptr<ToxicStage>> stages_;
};

// Creates the stage for a toxic type (toxics/ToxicFactory.cpp).
std::unique_ptr<ToxicStage> make_toxic_stage(ToxicChain& chain, ToxicConfigPtr config);

}  // namespace faultline
