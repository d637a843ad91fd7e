#pragma once
// A run of bytes read from one side of a connection, with the time it arrived.
#include <cstddef>

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

}  // namespace faultline
