#include "engine/PipePool.h"

#include <fcntl.h>
#include <unistd.h>

namespace faultline {

PipePool::~PipePool() {
  for (Pipe& p : idle_) destroy(p);
}

bool PipePool::take(Pipe& out) {
  if (!idle_.empty()) {
    out = idle_.back();
    idle_.pop_back();
    return true;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  // A larger pipe moves more per splice: fewer system calls per byte. If the
  // kernel refuses (an unprivileged user past fs.pipe-user-pages-soft gets
  // pipes of one page), the pipe keeps the size it was given.
  int size = ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kWantedCapacity));
  if (size <= 0) size = ::fcntl(fds[1], F_GETPIPE_SZ);
  out.capacity = size > 0 ? static_cast<size_t>(size) : kDefaultCapacity;
  out.read_end = fds[0];
  out.write_end = fds[1];
  return true;
}

void PipePool::give_back(Pipe p) {
  if (idle_.size() >= keep_at_most_) {
    destroy(p);
    return;
  }
  idle_.push_back(p);
}

void PipePool::destroy(Pipe& p) {
  if (p.read_end >= 0) ::close(p.read_end);
  if (p.write_end >= 0) ::close(p.write_end);
  p.read_end = p.write_end = -1;
}

}  // namespace faultline
