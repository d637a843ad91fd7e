#pragma once
// The data plane: one worker per core. The control plane calls these methods
// from any thread; each posts the change to every worker's loop and returns
// at once with a ticket that completes when every loop has applied it. The
// caller waits on the ticket (outside its own locks) to keep the rule that a
// change is in force when an API call returns. Workers never block, so no
// ticket waits for data to move.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/ChangeTicket.h"
#include "engine/Clock.h"
#include "engine/ProxyRuntime.h"
#include "toxics/ToxicConfig.h"

namespace faultline {

class Worker;
class Resolver;

class KernelRedirect;

struct EngineSettings {
  int workers = 0;                  // 0: one per core
  Nanos connect_timeout = std::chrono::seconds(10);
  uint64_t seed = 0;
  const TimeSource* time = &system_time();
  KernelRedirect* kernel_redirect = nullptr;  // -fast-path bpf; owned by the caller, outlives the engine
};

class Engine {
 public:
  explicit Engine(EngineSettings settings);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int worker_count() const { return static_cast<int>(workers_.size()); }
  uint64_t seed() const { return settings_.seed; }
  bool kernel_path() const { return settings_.kernel_redirect != nullptr; }
  const TimeSource& time() const { return *settings_.time; }

  // Starts serving `listen_fd` (already listening) for the proxy `runtime`.
  ChangeTicket start_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, ToxicSnapshotPtr toxics);
  // Stops accepting and closes every connection of the proxy; then, when
  // `close_fd` is not -1, closes that (listening) socket, once no loop watches it.
  ChangeTicket stop_proxy(uint64_t id, int close_fd);
  // Stops accepting for good (shutdown): live connections go on, and once no
  // loop watches `listen_fd` it leaves the listening state, so that new
  // clients are refused at once. It stays open (keeping its port) until the
  // caller closes it.
  ChangeTicket stop_accepting(uint64_t id, int listen_fd);
  // Gives every connection of the proxy (and every later one) these toxics.
  ChangeTicket set_toxics(uint64_t id, ToxicSnapshotPtr toxics);
  // Closes every open connection of the proxy (FIN); new clients are still accepted.
  ChangeTicket cut_connections(uint64_t id);
  // -fast-path bpf: brings the byte counters up to date with what the kernel
  // moved (read from its map on demand, so idle connections cost nothing).
  // Waits for every loop; no-op without the fast path.
  void count_kernel_bytes();
  void stop();  // closes everything and joins the threads

  // Runs `fn` on worker `index`'s loop thread (tests, and tools that must act from a loop).
  void run_on_worker(size_t index, std::function<void()> fn);
  // Whether the calling thread is one of this engine's loops.
  bool on_worker_thread() const;

 private:
  ChangeTicket on_every_worker(std::function<void(Worker&)> fn, std::function<void()> when_all_done = {});
  // -fast-path bpf: which of the proxy's directions the program passes whole (those with toxics).
  void hold_kernel_path(uint64_t id, const ToxicSnapshot* toxics);

  EngineSettings settings_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool stopped_ = false;
};

}  // namespace faultline
