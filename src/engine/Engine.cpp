#include "engine/Engine.h"

#include <sys/socket.h>

#include <atomic>
#include <latch>
#include <thread>

#include "engine/Resolver.h"
#include "engine/Worker.h"

namespace faultline {

Engine::Engine(EngineSettings settings) : settings_(settings), resolver_(std::make_unique<Resolver>()) {
  int count = settings_.workers > 0 ? settings_.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (count <= 0) count = 1;
  for (int i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>(i, settings_, *resolver_));
  for (auto& w : workers_) w->start();
}

Engine::~Engine() { stop(); }

void Engine::on_every_worker(const std::function<void(Worker&)>& fn) {
  if (stopped_) return;
  std::latch done(static_cast<std::ptrdiff_t>(workers_.size()));
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop().post([worker, &fn, &done] {
      fn(*worker);
      done.count_down();
    });
  }
  done.wait();
}

void Engine::start_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, const ToxicChainConfig& up,
                         const ToxicChainConfig& down) {
  on_every_worker([&](Worker& w) { w.add_proxy(runtime, listen_fd, up, down); });
}

void Engine::stop_proxy(uint64_t id) {
  on_every_worker([&](Worker& w) { w.remove_proxy(id); });
}

void Engine::stop_accepting(uint64_t id) {
  std::atomic<int> listen_fd{-1};
  on_every_worker([&](Worker& w) {
    if (const int fd = w.stop_accepting(id); fd >= 0) listen_fd.store(fd, std::memory_order_relaxed);
  });
  // No worker watches the socket any more: take it out of the listening
  // state, so that a client connecting now is refused at once instead of
  // waiting in a backlog nobody accepts from.
  if (const int fd = listen_fd.load(std::memory_order_relaxed); fd >= 0) ::shutdown(fd, SHUT_RD);
}

void Engine::set_toxics(uint64_t id, Direction direction, const ToxicChainConfig& toxics) {
  on_every_worker([&](Worker& w) { w.set_toxics(id, direction, toxics); });
}

void Engine::stop() {
  if (stopped_) return;
  stopped_ = true;
  resolver_.reset();  // first: its thread posts answers to the workers' loops
  for (auto& w : workers_) w->join();
  workers_.clear();
}

}  // namespace faultline
