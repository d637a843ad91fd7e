#pragma once
// A run of bytes read from one side of a connection, with the time it arrived.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "engine/BufferPool.h"
#include "engine/Clock.h"

namespace faultline {

struct Chunk {
  BufferRef buffer;
  size_t offset = 0;
  size_t length = 0;
  TimePoint arrival{};

  const char* data() const { return buffer.data() + offset; }
  // The first `n` bytes as a new chunk sharing the buffer; this chunk keeps the rest.
  Chunk split_front(size_t n) {
    Chunk front{buffer, offset, n, arrival};
    offset += n;
    length -= n;
    return front;
  }
};

// A chunk holding a copy of `bytes` (at most Buffer::kSize of them).
inline Chunk chunk_of(BufferPool& pool, std::string_view bytes, TimePoint arrival) {
  BufferRef buffer = pool.take();
  const size_t n = std::min(bytes.size(), Buffer::kSize);
  std::memcpy(buffer.data(), bytes.data(), n);
  return Chunk{std::move(buffer), 0, n, arrival};
}

// Gives `chunk` a buffer of its own when it shares one, so it may be written to.
inline void make_own(Chunk& chunk, BufferPool& pool) {
  if (!chunk.buffer.shared()) return;
  chunk = chunk_of(pool, std::string_view(chunk.data(), chunk.length), chunk.arrival);
}

}  // namespace faultline
