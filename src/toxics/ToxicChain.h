#pragma once
// The toxics of one direction of one connection, in the order they were added.
#include <memory>
#include <vector>

#include "toxics/ToxicStage.h"

namespace faultline {

class ToxicChain {
 public:
  explicit ToxicChain(ToxicContext& context) : context_(context) {}
  ~ToxicChain();

  // Brings the chain in line with the direction's current toxics: removed ones
  // let go of what they hold and stop, updated ones take their new values,
  // new ones join at the end.
  //
  // Toxicity: each connection draws one number in [0, 1) per toxic, when the
  // toxic first meets it, from the server seed, the proxy, the connection's
  // number and the toxic's name; the toxic acts while that draw is below its
  // toxicity. The draw never changes, so raising toxicity only ever adds
  // connections (one toxic at 30 % stays toxic at 40 %: a ramp is monotone)
  // and lowering it only removes them.
  void apply(const ToxicChainConfig& toxics);

  void push(Chunk chunk) { deliver(0, std::move(chunk)); }
  void push_eof() { deliver_eof(0); }

  // Asks the active stages about a new connection; the strongest verdict
  // wins (Refuse over Close over Delay, the longest delay among delays).
  AcceptVerdict before_connect();
  void output_drained();  // the owner wrote everything: stages waiting for room go on
  bool has_active_stage() const;
  bool has_stages() const { return !stages_.empty(); }
  size_t held_bytes() const;
  ToxicContext& context() { return context_; }

 private:
  friend class ToxicStage;
  size_t index_of(const ToxicStage* stage) const;
  void deliver(size_t index, Chunk chunk);
  void deliver_eof(size_t index);
  // Whether `stage` acts on this connection at its toxic's current toxicity.
  void decide_activity(ToxicStage& stage);

  ToxicContext& context_;
  std::vector<std::unique_ptr<ToxicStage>> stages_;
};


}  // namespace faultline
