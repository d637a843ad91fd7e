#pragma once
// One toxic at work on one direction of one connection. Stages form a chain:
// a chunk read from the source enters the first active stage, each stage
// passes it on (now, later, cut up, or never) and what leaves the last stage
// is written to the destination. A stage never touches sockets itself: all it
// sees of the connection is its ToxicContext.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "toxics/Chunk.h"
#include "toxics/ToxicConfig.h"
#include "toxics/ToxicContext.h"
#include "util/Random.h"

namespace faultline {

class ToxicChain;

// What a toxic decides about a new client before faultline dials the
// upstream (ToxicStage::before_connect). Toxics that drop or slow accepts
// use it; the strongest verdict of a connection's toxics wins.
struct AcceptVerdict {
  enum class Action {
    Proceed,
    Delay,      // dial the upstream `delay` later
    Blackhole,  // never dial, never answer; close the client after `delay` (Nanos::max(): never)
    Close,      // FIN to the client
    Refuse,     // RST to the client
  };
  Action action = Action::Proceed;
  Nanos delay{0};
};

class ToxicStage {
 public:
  ToxicStage(ToxicChain& chain, ToxicConfigPtr config);
  virtual ~ToxicStage() = default;
  ToxicStage(const ToxicStage&) = delete;
  ToxicStage& operator=(const ToxicStage&) = delete;

  const ToxicConfig& config() const { return *config_; }
  const ToxicSpec& spec() const { return config_->spec; }
  bool active() const { return active_; }

  // Hooks the chain calls. Only active stages see chunks.
  virtual void start() {}                                // begins to act on this connection
  // A new connection, its upstream not dialled yet (only for toxics that are
  // active from the start; a toxic added later never sees this).
  virtual AcceptVerdict before_connect() { return {}; }
  virtual void on_chunk(Chunk chunk) { pass(std::move(chunk)); }
  virtual void on_eof() { pass_eof(); }
  virtual void reconfigured() {}                         // attributes changed (still active)
  virtual void stop() {}                                 // stops acting: let go of all it holds
  virtual size_t held_bytes() const { return 0; }
  virtual void output_drained() {}                       // everything output so far was written

 protected:
  void pass(Chunk chunk);
  void pass_eof();
  ToxicContext& context();
  TimePoint now() { return context().now(); }
  TimerQueue& timers() { return context().timers(); }
  Rng& rng() { return rng_; }
  void event(ChaosEventKind kind, std::string_view detail = {}) { context().chaos_event(kind, config(), detail); }
  // This toxic's attribute, read through the key its file declares.
  template <AttributeType T>
  const typename AttributeKey<T>::value_type& attribute(AttributeKey<T> key) const { return spec().get(key); }

 private:
  friend class ToxicChain;
  ToxicChain& chain_;
  ToxicConfigPtr config_;
  bool active_ = false;
  double draw_ = 0;  // this connection's toxicity draw, in [0, 1)
  Rng rng_;
};

}  // namespace faultline
