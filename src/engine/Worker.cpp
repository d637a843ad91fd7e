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

constexpr Millis kAcceptRetry{100};  // after running out of descriptors

}  // namespace

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

KernelRedirect* Worker::kernel() const { return settings_.kernel_redirect; }

Nanos Worker::connect_timeout() const { return settings_.connect_timeout; }

void Worker::add_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, ToxicSnapshotPtr toxics) {
  auto proxy = std::make_unique<LoopProxy>(std::move(runtime), listen_fd);
  proxy->toxics = toxics ? std::move(toxics) : std::make_shared<const ToxicSnapshot>();
  proxy->listener = make_listener(proxy->runtime->protocol, *this, *proxy);
  if (!proxy->listener) {  // the control plane refuses other protocols first; a loop never trusts that
    log::error("proxy not started: unsupported protocol", {{"proxy", proxy->runtime->name}, {"protocol", proxy->runtime->protocol}});
    return;
  }
  proxy->listener->start();
  const uint64_t id = proxy->runtime->id;
  proxies_[id] = std::move(proxy);
}

int Worker::stop_accepting(uint64_t id) {
  auto it = proxies_.find(id);
  if (it == proxies_.end()) return -1;
  return it->second->listener->stop_accepting();
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

void Worker::count_kernel_bytes() {
  if (!kernel()) return;
  for (auto& [id, proxy] : proxies_)
    for (ProxySession* c = proxy->sessions; c; c = c->next) c->count_kernel_bytes();
}

void Worker::cut_connections(uint64_t id) {
  if (auto it = proxies_.find(id); it != proxies_.end()) close_all(*it->second);
}

void Worker::close_all(LoopProxy& proxy) {
  while (proxy.sessions) proxy.sessions->close_gracefully();
}

void Worker::set_toxics(uint64_t id, ToxicSnapshotPtr toxics) {
  auto it = proxies_.find(id);
  if (it == proxies_.end() || !toxics) return;
  LoopProxy& proxy = *it->second;
  if (toxics->version <= proxy.toxics->version) return;
  const ToxicSnapshotPtr before = std::exchange(proxy.toxics, toxics);
  for (Direction d : kDirections) {
    if (before->chain(d) == toxics->chain(d)) continue;  // that direction did not change
    for (ProxySession* c = proxy.sessions; c;) {
      ProxySession* next = c->next;  // applying may close it
      c->apply_toxics(d, toxics->chain(d));
      c = next;
    }
  }
}

void Worker::session_opened(LoopProxy& proxy, ProxySession* session) {
  session->next = proxy.sessions;
  if (proxy.sessions) proxy.sessions->prev = session;
  proxy.sessions = session;
  session->start();
}

Nanos Worker::descriptor_retry_delay() const { return kAcceptRetry; }

void Worker::session_closed(LoopProxy& proxy, ProxySession* c) {
  if (c->prev) c->prev->next = c->next;
  else proxy.sessions = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  proxy.runtime->stats().connections_active.fetch_sub(1, std::memory_order_relaxed);
  proxy.runtime->stats().connections_closed.fetch_add(1, std::memory_order_relaxed);
  trimmer_.connection_closed();
  loop_.dispose(std::unique_ptr<Disposable>(c));
}

}  // namespace faultline
