#include "upstreams.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <unordered_map>

#include "net_util.h"

namespace fbench {
namespace {

struct Peer {
  int kind = 0;
  std::string pending;  // echo bytes not yet written back / oneshot request so far
  bool want_out = false;
};

// epoll user data: a connection carries its fd; listeners and the stop
// eventfd carry tag bits above any descriptor number.
constexpr uint64_t kListenerTag = 1ull << 40;
constexpr uint64_t kStopTag = 1ull << 41;

}  // namespace

Upstreams::Upstreams() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || stop_fd_ < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kStopTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
  for (int k = 0; k < kKinds; ++k) {
    listen_fds_[k] = listen_ephemeral(ports_[k]);
    if (listen_fds_[k] < 0) return;
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag | static_cast<uint64_t>(k);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fds_[k], &ev);
  }
  ok_ = true;
  thread_ = std::thread([this] { run(); });
}

Upstreams::~Upstreams() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  for (int fd : listen_fds_)
    if (fd >= 0) ::close(fd);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Upstreams::run() {
  std::unordered_map<int, Peer> peers;
  static char junk[256 * 1024];
  static char source_data[256 * 1024];
  std::memset(source_data, 'S', sizeof source_data);
  epoll_event events[256];

  auto drop = [&](int fd) {
    peers.erase(fd);
    ::close(fd);  // also leaves the epoll set
  };
  auto set_interest = [&](int fd, uint32_t mask) {
    epoll_event ev{};
    ev.events = mask;
    ev.data.u64 = static_cast<uint64_t>(fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  };

  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 256, 1000);
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kStopTag) {
        for (auto& [fd, p] : peers) ::close(fd);
        return;
      }
      if (tag & kListenerTag) {
        const int kind = static_cast<int>(tag & 0xff);
        for (int a = 0; a < 256; ++a) {
          const int fd = ::accept4(listen_fds_[kind], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          set_nodelay(fd);
          peers[fd].kind = kind;
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP | (kind == kSource ? EPOLLOUT : 0u);
          ev.data.u64 = static_cast<uint64_t>(fd);
          if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) drop(fd);
        }
        continue;
      }
      const int fd = static_cast<int>(tag);
      auto it = peers.find(fd);
      if (it == peers.end()) continue;
      Peer& p = it->second;
      const uint32_t ev = events[i].events;

      if (p.kind == kSource) {
        if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) { drop(fd); continue; }
        if (ev & EPOLLIN) {
          const ssize_t r = ::recv(fd, junk, sizeof junk, 0);
          if (r == 0 || (r < 0 && errno != EAGAIN)) { drop(fd); continue; }
        }
        if (ev & EPOLLOUT) {
          const ssize_t w = ::send(fd, source_data, sizeof source_data, MSG_NOSIGNAL);
          if (w < 0 && errno != EAGAIN) { drop(fd); continue; }
        }
        continue;
      }

      if (p.kind == kEcho && p.want_out && (ev & EPOLLOUT)) {
        const ssize_t w = ::send(fd, p.pending.data(), p.pending.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) { drop(fd); continue; }
        if (w > 0) p.pending.erase(0, static_cast<size_t>(w));
        if (p.pending.empty()) {
          p.want_out = false;
          set_interest(fd, EPOLLIN | EPOLLRDHUP);
        }
        continue;
      }
      if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      if (p.want_out) continue;  // echo: wait until the backlog is written

      const ssize_t r = ::recv(fd, junk, sizeof junk, 0);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) { drop(fd); continue; }
      const auto got = static_cast<size_t>(r);
      if (p.kind == kSink) {
        sink_bytes_.fetch_add(got, std::memory_order_relaxed);
      } else if (p.kind == kEcho) {
        const ssize_t w = ::send(fd, junk, got, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) { drop(fd); continue; }
        const size_t written = w > 0 ? static_cast<size_t>(w) : 0;
        if (written < got) {
          p.pending.assign(junk + written, got - written);
          p.want_out = true;
          set_interest(fd, EPOLLOUT | EPOLLRDHUP);
        }
      } else {  // oneshot
        p.pending.append(junk, got);
        if (p.pending.size() >= kOneshotSize) {
          // 32 bytes into a fresh socket buffer: one send takes them all.
          [[maybe_unused]] auto w = ::send(fd, p.pending.data(), kOneshotSize, MSG_NOSIGNAL);
          drop(fd);  // the upstream closes first
        }
      }
    }
  }
}

}  // namespace fbench
