#include "engine/Worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "engine/Connection.h"
#include "engine/Engine.h"
#include "log/Log.h"

namespace faultline {
namespace {

constexpr int kAcceptBatch = 64;  // accepts per wake-up, so one busy proxy cannot starve the rest
constexpr Millis kAcceptRetry{100};

}  // namespace

void LoopProxy::on_io(uint32_t) { worker.accept_from(*this); }

Worker::Worker(int index, const EngineSettings& settings, Resolver& resolver)
    : index_(index), settings_(settings), resolver_(resolver), loop_(*settings.time) {}

Worker::~Worker() = default;

void Worker::start() {
  thread_ = std::thread([this] {
    trimmer_.start();
    loop_.run();
    trimmer_.stop();
    // Whatever is still open when the loop stops is closed here, on its own thread.
    for (auto& [id, proxy] : proxies_) close_all(*proxy);
    loop_.collect_garbage();
    proxies_.clear();
  });
}

void Worker::join() {
  loop_.stop();
  if (thread_.joinable()) thread_.join();
}

Nanos Worker::connect_timeout() const { return settings_.connect_timeout; }

void Worker::add_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, ToxicSnapshotPtr toxics) {
  auto proxy = std::make_unique<LoopProxy>(*this, std::move(runtime), listen_fd);
  proxy->toxics = toxics ? std::move(toxics) : std::make_shared<const ToxicSnapshot>();
  LoopProxy* p = proxy.get();
  p->accept_retry.set_callback([this, p] {
    if (!p->accepting) return;
    try {
      loop_.watch(p->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, p);
    } catch (const std::exception& e) {
      // Cannot watch again yet (e.g. no memory): try again later rather than stop accepting for good.
      log::warn("cannot resume accepting", {{"proxy", p->runtime->name}, {"error", e.what()}});
      loop_.timers().arm(p->accept_retry, loop_.now() + kAcceptRetry);
    }
  });
  // One listening socket, watched by every worker; EPOLLEXCLUSIVE wakes one
  // of them per new connection, which spreads accepts across the cores.
  loop_.watch(listen_fd, EPOLLIN | EPOLLEXCLUSIVE, p);
  p->accepting = true;
  proxies_[p->runtime->id] = std::move(proxy);
}

int Worker::stop_accepting(uint64_t id) {
  auto it = proxies_.find(id);
  if (it == proxies_.end() || !it->second->accepting) return -1;
  it->second->accepting = false;
  loop_.timers().cancel(it->second->accept_retry);
  loop_.unwatch(it->second->listen_fd);
  return it->second->listen_fd;
}

void Worker::remove_proxy(uint64_t id) {
  auto it = proxies_.find(id);
  if (it == proxies_.end()) return;
  stop_accepting(id);
  close_all(*it->second);
  // Connections closed above are destroyed at the end of this loop iteration
  // and still point at the LoopProxy: let it go at the same time.
  struct Holder final : Disposable {
    std::unique_ptr<LoopProxy> proxy;
  };
  auto holder = std::make_unique<Holder>();
  holder->proxy = std::move(it->second);
  proxies_.erase(it);
  loop_.dispose(std::move(holder));
}

void Worker::close_all(LoopProxy& proxy) {
  while (proxy.connections) proxy.connections->close(Connection::CloseKind::Graceful);
}

void Worker::set_toxics(uint64_t id, ToxicSnapshotPtr toxics) {
  auto it = proxies_.find(id);
  if (it == proxies_.end() || !toxics) return;
  LoopProxy& proxy = *it->second;
  if (toxics->version <= proxy.toxics->version) return;
  const ToxicSnapshotPtr before = std::exchange(proxy.toxics, toxics);
  for (Direction d : kDirections) {
    if (before->chain(d) == toxics->chain(d)) continue;  // that direction did not change
    for (Connection* c = proxy.connections; c;) {
      Connection* next = c->next;  // applying may close it
      c->apply_toxics(d, toxics->chain(d));
      c = next;
    }
  }
}

void Worker::accept_from(LoopProxy& proxy) {
  for (int i = 0; i < kAcceptBatch && proxy.accepting; ++i) {
    net::SocketAddress client;
    socklen_t length = client.capacity();
    const int fd = ::accept4(proxy.listen_fd, client.get(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting(proxy);
      return;  // EAGAIN: another worker took it, or the backlog is empty
    }
    const uint64_t sequence = proxy.runtime->stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    proxy.runtime->stats().connections_active.fetch_add(1, std::memory_order_relaxed);
    client.set_size(length);
    auto* c = new Connection(*this, proxy, fd, client, sequence);
    c->next = proxy.connections;
    if (proxy.connections) proxy.connections->prev = c;
    proxy.connections = c;
    c->start();
  }
}

void Worker::pause_accepting(LoopProxy& proxy) {
  // Out of descriptors: stop watching the listener for a moment instead of
  // spinning on a socket that stays readable; new clients wait in the
  // kernel's backlog until descriptors are free again.
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    log::warn("out of file descriptors, pausing accepts", {{"proxy", proxy.runtime->name}, {"retry_ms", kAcceptRetry.count()}});
  if (!proxy.accepting || proxy.accept_retry.armed()) return;
  // An EPOLLEXCLUSIVE watch cannot be modified, only removed and added again.
  loop_.unwatch(proxy.listen_fd);
  loop_.timers().arm(proxy.accept_retry, loop_.now() + kAcceptRetry);
}

Nanos Worker::descriptor_retry_delay() const { return kAcceptRetry; }

void Worker::connection_closed(LoopProxy& proxy, Connection* c) {
  if (c->prev) c->prev->next = c->next;
  else proxy.connections = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  proxy.runtime->stats().connections_active.fetch_sub(1, std::memory_order_relaxed);
  proxy.runtime->stats().connections_closed.fetch_add(1, std::memory_order_relaxed);
  trimmer_.connection_closed();
  loop_.dispose(std::unique_ptr<Disposable>(c));
}

}  // namespace faultline
