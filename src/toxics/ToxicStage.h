#pragma once
// One toxic at work on one direction of one connection. Stages form a chain:
// a chunk read from the source enters the first active stage, each stage
// passes it on (now, later, cut up, or never) and what leaves the last stage
// is written to the destination. A stage never touches sockets itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/EventLoop.h"
#include "toxics/Chunk.h"
#include "toxics/ToxicConfig.h"
#include "util/Random.h"

namespace faultline {

class ToxicChain;

// What a chain needs from the connection direction that runs it.
class ChainOwner {
 public:
  virtual EventLoop& loop() = 0;
  virtual void chain_output(Chunk chunk) = 0;  // bytes for the destination
  virtual void chain_output_eof() = 0;         // the source's end, after all its bytes
  virtual void chain_released() = 0;           // held bytes were let go: reading may resume
  virtual void close_connection(bool reset) = 0;   // whole connection: FIN, or RST when `reset`
  virtual void close_after_output_written() = 0;   // FIN once what was output is written
  // Chunks output but not yet written. A toxic that makes many small pieces
  // waits while this is high, so a blocked destination cannot make the
  // queue grow without bound; it is told when the queue has emptied.
  virtual size_t output_backlog() const = 0;
  virtual uint64_t random_seed(const ToxicConfig& toxic) = 0;  // per connection and toxic
  // Logs a fault the toxic caused on this connection ("toxic applied", "reset sent", ...).
  virtual void chaos_event(std::string_view what, const ToxicConfig& toxic) = 0;

 protected:
  ~ChainOwner() = default;
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
  virtual void on_chunk(Chunk chunk) { pass(std::move(chunk)); }
  virtual void on_eof() { pass_eof(); }
  virtual void reconfigured() {}                         // attributes changed (still active)
  virtual void stop() {}                                 // stops acting: let go of all it holds
  virtual size_t held_bytes() const { return 0; }
  virtual void output_drained() {}                       // everything output so far was written

 protected:
  void pass(Chunk chunk);
  void pass_eof();
  ChainOwner& owner();
  EventLoop& loop() { return owner().loop(); }
  TimerQueue& timers() { return loop().timers(); }
  Rng& rng() { return rng_; }

 private:
  friend class ToxicChain;
  ToxicChain& chain_;
  ToxicConfigPtr config_;
  bool active_ = false;
  Rng rng_;
};

}  // namespace faultline
