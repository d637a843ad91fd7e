#pragma once
// Reference-counted byte buffers recycled by one event loop. A chunk that a
// toxic splits into pieces shares one buffer; the buffer goes back to the
// pool when its last piece has been written. Never shared across threads.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace faultline {

class BufferPool;

struct Buffer {
  static constexpr size_t kSize = 64 * 1024;
  BufferPool* pool = nullptr;
  uint32_t refs = 0;
  char bytes[kSize];
};

class BufferRef {
 public:
  BufferRef() = default;
  explicit BufferRef(Buffer* b) : buffer_(b) { if (b) ++b->refs; }
  BufferRef(const BufferRef& o) : BufferRef(o.buffer_) {}
  BufferRef(BufferRef&& o) noexcept : buffer_(o.buffer_) { o.buffer_ = nullptr; }
  BufferRef& operator=(BufferRef o) noexcept {
    std::swap(buffer_, o.buffer_);
    return *this;
  }
  ~BufferRef() { release(); }

  char* data() const { return buffer_->bytes; }
  explicit operator bool() const { return buffer_ != nullptr; }
  bool shared() const { return buffer_ && buffer_->refs > 1; }  // another chunk uses it too
  void release();

 private:
  Buffer* buffer_ = nullptr;
};

class BufferPool {
 public:
  explicit BufferPool(size_t keep_at_most = 256) : keep_at_most_(keep_at_most) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  BufferRef take();
  void give_back(Buffer* b);
  size_t idle() const { return idle_.size(); }
  // Buffers freed back to the allocator since the last call: a sign that a
  // burst has passed and memory could be returned to the system.
  size_t take_freed_count() { return std::exchange(freed_, 0); }

 private:
  size_t keep_at_most_;
  size_t freed_ = 0;
  std::vector<Buffer*> idle_;
};

inline void BufferRef::release() {
  if (buffer_ && --buffer_->refs == 0) buffer_->pool->give_back(buffer_);
  buffer_ = nullptr;
}

}  // namespace faultline
