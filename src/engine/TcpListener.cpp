#include "engine/TcpListener.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>

#include "engine/Connection.h"
#include "engine/Worker.h"
#include "log/Log.h"

namespace faultline {
namespace {

constexpr int kAcceptBatch = 64;  // accepts per wake-up, so one busy proxy cannot starve the rest

}  // namespace

std::unique_ptr<ProxyListener> make_listener(const std::string& protocol, Worker& worker, LoopProxy& proxy) {
  if (protocol == "tcp") return std::make_unique<TcpListener>(worker, proxy);
  return nullptr;
}

TcpListener::TcpListener(Worker& worker, LoopProxy& proxy) : worker_(worker), proxy_(proxy) {
  retry_.set_callback([this] { resume(); });
}

TcpListener::~TcpListener() { worker_.loop().timers().cancel(retry_); }

void TcpListener::start() {
  worker_.loop().watch(proxy_.listen_fd, EPOLLIN | EPOLLEXCLUSIVE, this);
  accepting_ = true;
}

int TcpListener::stop_accepting() {
  if (!accepting_) return -1;
  accepting_ = false;
  worker_.loop().timers().cancel(retry_);
  worker_.loop().unwatch(proxy_.listen_fd);
  return proxy_.listen_fd;
}

void TcpListener::on_io(uint32_t) { accept_batch(); }

void TcpListener::accept_batch() {
  for (int i = 0; i < kAcceptBatch && accepting_; ++i) {
    net::SocketAddress client;
    socklen_t length = client.capacity();
    const int fd = ::accept4(proxy_.listen_fd, client.get(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_for_descriptors();
      return;  // EAGAIN: another worker took it, or the backlog is empty
    }
    client.set_size(length);
    const uint64_t sequence = proxy_.runtime->stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    proxy_.runtime->stats().connections_active.fetch_add(1, std::memory_order_relaxed);
    worker_.session_opened(proxy_, new Connection(worker_, proxy_, fd, client, sequence));
  }
}

void TcpListener::pause_for_descriptors() {
  // Out of descriptors: stop watching the listener for a moment instead of
  // spinning on a socket that stays readable; new clients wait in the
  // kernel's backlog until descriptors are free again.
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    log::warn("out of file descriptors, pausing accepts",
              {{"proxy", proxy_.runtime->name}, {"retry_ms", std::chrono::duration_cast<Millis>(worker_.descriptor_retry_delay()).count()}});
  if (!accepting_ || retry_.armed()) return;
  // An EPOLLEXCLUSIVE watch cannot be modified, only removed and added again.
  worker_.loop().unwatch(proxy_.listen_fd);
  worker_.loop().timers().arm(retry_, worker_.loop().now() + worker_.descriptor_retry_delay());
}

void TcpListener::resume() {
  if (!accepting_) return;
  try {
    worker_.loop().watch(proxy_.listen_fd, EPOLLIN | EPOLLEXCLUSIVE, this);
  } catch (const std::exception& e) {
    // Cannot watch again yet (e.g. no memory): try again later rather than stop accepting for good.
    log::warn("cannot resume accepting", {{"proxy", proxy_.runtime->name}, {"error", e.what()}});
    worker_.loop().timers().arm(retry_, worker_.loop().now() + worker_.descriptor_retry_delay());
  }
}

}  // namespace faultline
