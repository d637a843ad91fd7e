#pragma once
// A first-in first-out queue of chunks that costs nothing until used: an idle
// connection has two of them, and std::deque allocates ~600 bytes up front.
#include <cstddef>
#include <vector>

#include "toxics/Chunk.h"

namespace faultline {

class ChunkQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  Chunk& front() { return items_[head_]; }
  void push_back(Chunk c) { items_.push_back(std::move(c)); }
  void pop_front() {
    items_[head_++] = Chunk{};  // lets the buffer go now
    if (head_ == items_.size()) clear();
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<Chunk> items_;
  size_t head_ = 0;
};

}  // namespace faultline
