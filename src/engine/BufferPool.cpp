#include "engine/BufferPool.h"

namespace faultline {

BufferPool::~BufferPool() {
  for (Buffer* b : idle_) delete b;
}

BufferRef BufferPool::take() {
  Buffer* b;
  if (idle_.empty()) {
    b = new Buffer;
    b->pool = this;
  } else {
    b = idle_.back();
    idle_.pop_back();
  }
  return BufferRef(b);
}

void BufferPool::give_back(Buffer* b) {
  if (idle_.size() >= keep_at_most_) {
    delete b;
    ++freed_;
    return;
  }
  idle_.push_back(b);
}

}  // namespace faultline
