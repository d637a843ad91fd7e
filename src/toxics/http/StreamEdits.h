#pragma once
// One stream's bytes on their way through an HTTP toxic's stage. The stage
// holds every byte it reads and says, in stream order, what becomes of it:
// pass it on up to an offset, drop it, let it out at a paced rate, put other
// bytes in its place, wait until a time, close the connection, or run a step
// of the stage's own (a response is over: count it). The edits run as soon as
// their bytes and their time have come, so nothing passes that no edit has
// released yet: a head waits while the toxic decides, and a delayed request
// holds back everything behind it, as it would on the wire.
//
// Offsets count from the stream's first byte. Edits are appended in order
// and an edit that moves bytes always ends further on than the one before.
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "engine/TimerQueue.h"
#include "toxics/Chunk.h"
#include "toxics/ToxicContext.h"

namespace faultline::http {

class StreamEdits {
 public:
  using Emit = std::function<void(Chunk)>;
  StreamEdits(ToxicContext& context, Emit emit);
  ~StreamEdits();
  StreamEdits(const StreamEdits&) = delete;
  StreamEdits& operator=(const StreamEdits&) = delete;

  // Bytes the stage read, in order.
  void hold(Chunk chunk);
  uint64_t end() const { return held_at_ + held_bytes_; }  // just past the last byte read
  size_t held_bytes() const { return held_bytes_; }
  // Where the edits so far stop: bytes from here on wait for an edit.
  uint64_t planned() const { return planned_; }

  // Edits, in stream order. Passing, dropping and pacing up to the offset
  // where the last such edit stopped extend it instead of adding one.
  void pass_until(uint64_t offset);
  void drop_until(uint64_t offset);
  void pace_until(uint64_t offset, uint64_t bytes_per_second);
  void insert(std::string bytes);
  void wait_until(TimePoint when);
  void close(bool reset);
  void then(std::function<void()> step);

  // A copy of held bytes [from, to) (a head the stage edits), or "" when
  // some of them are gone already.
  std::string copy(uint64_t from, uint64_t to) const;

  // Does every edit whose bytes and time have come.
  void run();
  // The toxic goes away: pending edits run at once (waits and pacing
  // skipped, closes left out), then every byte still held passes as it came.
  // Inserts and steps behind bytes that have not arrived yet are dropped:
  // the rest of the stream will not pass through here to come before them.
  void flush();
  bool closed() const { return closed_; }
  // Nothing held and nothing to do: bytes may go straight on.
  bool idle() const { return held_bytes_ == 0 && edits_.empty(); }

 private:
  struct Edit {
    enum class Kind { Pass, Drop, Pace, Insert, Wait, Close, Step };
    Kind kind;
    uint64_t until = 0;      // Pass, Drop, Pace
    uint64_t rate = 0;       // Pace: bytes per second
    TimePoint when{};        // Wait; Pace: when the next bytes may go
    bool reset = false;      // Close
    std::string bytes;       // Insert
    std::function<void()> step;
  };
  void extend_or_add(Edit::Kind kind, uint64_t until, uint64_t rate);
  // Moves up to `limit` held bytes out (passed when `forward`); returns how many.
  uint64_t move_bytes(uint64_t limit, bool forward);
  // Runs the front edit; false when it must wait (for bytes or for time).
  bool run_front(bool flushing);
  bool run_pace(Edit& edit, bool flushing);
  void emit_bytes(std::string_view bytes);

  ToxicContext& context_;
  Emit emit_;
  Timer timer_;
  std::deque<Chunk> held_;
  uint64_t held_at_ = 0;  // stream offset of the first held byte
  size_t held_bytes_ = 0;
  uint64_t planned_ = 0;
  std::deque<Edit> edits_;
  bool running_ = false;
  bool released_ = false;  // bytes left since the last time the context was told
  bool closed_ = false;
};

}  // namespace faultline::http
