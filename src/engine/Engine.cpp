#include "engine/Engine.h"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "engine/KernelRedirect.h"
#include "engine/Resolver.h"
#include "engine/Worker.h"
#include "log/Log.h"

namespace faultline {

Engine::Engine(EngineSettings settings) : settings_(settings), resolver_(std::make_unique<Resolver>()) {
  int count = settings_.workers > 0 ? settings_.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (count <= 0) count = 1;
  for (int i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>(i, settings_, *resolver_));
  for (auto& w : workers_) w->start();
}

Engine::~Engine() { stop(); }

bool Engine::on_worker_thread() const {
  for (const auto& w : workers_)
    if (w->is_current_thread()) return true;
  return false;
}

ChangeTicket Engine::on_every_worker(std::function<void(Worker&)> fn, std::function<void()> when_all_done) {
  if (stopped_) {
    if (when_all_done) when_all_done();
    return ChangeTicket();
  }
  ChangeTicket ticket(workers_.size(), std::move(when_all_done), !on_worker_thread());
  auto shared_fn = std::make_shared<std::function<void(Worker&)>>(std::move(fn));
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop().post([worker, shared_fn, ticket] {
      // Counted down even if the change throws (the loop logs it), so no waiter hangs.
      struct CountDown {
        const ChangeTicket& t;
        ~CountDown() { t.count_down(); }
      } count_down{ticket};
      (*shared_fn)(*worker);
    });
  }
  return ticket;
}

void Engine::hold_kernel_path(uint64_t id, const ToxicSnapshot* toxics) {
  // Before the loops apply the change: from now on the program passes the
  // bytes of a direction with toxics, and the toxics see them.
  if (!kernel_path()) return;
  for (Direction d : kDirections) {
    const bool held = toxics && !toxics->chain(d).empty();
    if (!settings_.kernel_redirect->hold(KernelRedirect::hold_key(id, index_of(d)), held))
      log::warn("the kernel refused a fast-path map update; connections switch one by one", {{"proxy_id", id}});
  }
}

ChangeTicket Engine::start_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, ToxicSnapshotPtr toxics) {
  hold_kernel_path(runtime->id, toxics.get());
  return on_every_worker([runtime, listen_fd, toxics](Worker& w) { w.add_proxy(runtime, listen_fd, toxics); });
}

ChangeTicket Engine::stop_proxy(uint64_t id, int close_fd) {
  hold_kernel_path(id, nullptr);
  std::function<void()> close_socket;
  if (close_fd >= 0) close_socket = [close_fd] { ::close(close_fd); };
  return on_every_worker([id](Worker& w) { w.remove_proxy(id); }, std::move(close_socket));
}

ChangeTicket Engine::stop_accepting(uint64_t id, int listen_fd) {
  // No worker watches the socket any more: take it out of the listening
  // state, so that a client connecting now is refused at once instead of
  // waiting in a backlog nobody accepts from.
  return on_every_worker([id](Worker& w) { w.stop_accepting(id); },
                         [listen_fd] {
                           if (listen_fd >= 0) ::shutdown(listen_fd, SHUT_RD);
                         });
}

ChangeTicket Engine::set_toxics(uint64_t id, ToxicSnapshotPtr toxics) {
  hold_kernel_path(id, toxics.get());
  return on_every_worker([id, toxics](Worker& w) { w.set_toxics(id, toxics); });
}

ChangeTicket Engine::cut_connections(uint64_t id) {
  return on_every_worker([id](Worker& w) { w.cut_connections(id); });
}

void Engine::count_kernel_bytes() {
  if (!kernel_path() || stopped_) return;
  on_every_worker([](Worker& w) { w.count_kernel_bytes(); }).wait();
}

void Engine::run_on_worker(size_t index, std::function<void()> fn) {
  if (index < workers_.size()) workers_[index]->loop().post(std::move(fn));
}

void Engine::stop() {
  if (stopped_) return;
  stopped_ = true;
  resolver_.reset();  // first: its thread posts answers to the workers' loops
  for (auto& w : workers_) w->join();
  workers_.clear();
}

}  // namespace faultline
