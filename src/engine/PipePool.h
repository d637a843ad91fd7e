#pragma once
// Pipes for splice(2), lent to a link only while spliced bytes sit in them,
// so an idle connection holds no pipe (two descriptors saved per direction).
// Per event loop; a pipe handed back must be empty.
#include <cstddef>
#include <vector>

namespace faultline {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  size_t capacity = 0;  // bytes it can hold
};

class PipePool {
 public:
  explicit PipePool(size_t keep_at_most = 8) : keep_at_most_(keep_at_most) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  // Returns false when no pipe can be made (descriptor limit): the caller
  // falls back to copying through a buffer.
  bool take(Pipe& out);
  void give_back(Pipe p);   // p must be empty
  static void destroy(Pipe& p);  // for a pipe that still holds bytes


 private:
  size_t keep_at_most_;
  static constexpr size_t kDefaultCapacity = 64 * 1024;
  static constexpr size_t kWantedCapacity = 1024 * 1024;
  std::vector<Pipe> idle_;
};

}  // namespace faultline
