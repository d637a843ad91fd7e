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
  size_t size() const { return items_.size() - head_; }
  Chunk& front() { return items_[head_]; }
  void push_back(Chunk c) { items_.push_back(std::move(c)); }
  void pop_front() {
    items_[head_++] = Chunk{};  // lets the buffer go now
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // A queue that never quite empties (steady traffic) would otherwise
      // keep every slot it ever used: drop the used half now and then.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
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
