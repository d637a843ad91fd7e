#pragma once
// What a toxic stage may see and do on its connection. One context per
// direction; the two directions of a connection share its ConnectionInfo and
// its per-connection state, so the halves of one toxic (an HTTP toxic reads
// requests upstream and answers downstream) can talk to each other. Stages
// never touch sockets; tests drive stages through a fake context with a
// manual clock (tests/unit/toxic_stage_harness.h).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/Clock.h"
#include "engine/TimerQueue.h"
#include "model/ChaosEvent.h"
#include "toxics/Chunk.h"

namespace faultline {

struct ToxicConfig;

// Who is on either end of a connection.
struct ConnectionInfo {
  std::string proxy;
  uint64_t sequence = 0;  // the proxy's connection number, from 0
  std::string client;     // "127.0.0.1:50123"
  std::string upstream;   // as configured ("localhost:6379")
};

// State the two directions of one connection share, one slot per toxic.
class SharedToxicState {
 public:
  // The slot of `toxic_id`, created with `T{}` on first use.
  template <class T>
  T& get(uint64_t toxic_id) {
    auto& slot = slots_[toxic_id];
    if (!slot) slot = std::make_shared<T>();
    return *std::static_pointer_cast<T>(slot);
  }
  void forget(uint64_t toxic_id) { slots_.erase(toxic_id); }

 private:
  std::unordered_map<uint64_t, std::shared_ptr<void>> slots_;
};

class ToxicContext {
 public:
  // Time: the loop's clock and timers (a manual clock in tests).
  virtual TimePoint now() const = 0;
  virtual TimerQueue& timers() = 0;

  // Who and where.
  virtual const ConnectionInfo& connection() const = 0;
  virtual Direction direction() const = 0;
  virtual SharedToxicState& shared_state() = 0;

  // This direction's output.
  virtual void chain_output(Chunk chunk) = 0;  // bytes for the destination
  virtual void chain_output_eof() = 0;         // the source's end, after all its bytes
  virtual void chain_released() = 0;           // held bytes were let go: reading may resume
  // Chunks output but not yet written. A toxic that makes many small pieces
  // waits while this is high, so a blocked destination cannot make the
  // queue grow without bound; it is told when the queue has emptied.
  virtual size_t output_backlog() const = 0;

  // The other direction: bytes written straight to this direction's source
  // (after what that direction already has queued), and a FIN to it once
  // they are written.
  virtual void reply(Chunk chunk) = 0;
  virtual void end_reply() = 0;

  // Closing.
  virtual void close_connection(bool reset) = 0;   // whole connection: FIN, or RST when `reset`
  virtual void close_after_output_written() = 0;   // FIN to the destination once its output is written
  // RST, once the destination's output is written and the peer has taken it
  // in (so it gets those bytes, then the reset).
  virtual void reset_after_output_written() = 0;

  // A buffer of one's own: copies `chunk` when it shares its buffer with another chunk.
  virtual void make_writable(Chunk& chunk) = 0;
  virtual Chunk new_chunk(std::string_view bytes) = 0;  // at most Buffer::kSize bytes

  virtual uint64_t random_seed(const ToxicConfig& toxic) = 0;  // per connection and toxic
  virtual void chaos_event(ChaosEventKind kind, const ToxicConfig& toxic, std::string_view detail = {}) = 0;
  // An HTTP toxic faulted a request: a chaos event (HttpRequestFaulted, with
  // `detail`) that also goes on the event stream, field by field.
  virtual void http_fault(const ToxicConfig& toxic, const HttpFault& fault, std::string_view detail) = 0;
  // An HTTP request this connection carried got its answer (for /metrics).
  virtual void http_exchange(int status, Nanos duration) = 0;

 protected:
  ~ToxicContext() = default;
};

}  // namespace faultline
