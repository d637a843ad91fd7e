#pragma once
// The data plane: one worker per core. The control plane (API, config) calls
// these methods from its own thread; each call is carried out by every worker
// on its own loop and returns once all of them have done it, so a change is
// in force when the call returns. Workers never block, so neither does this
// for long: no call waits for data to move.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/Clock.h"
#include "engine/ProxyRuntime.h"
#include "toxics/ToxicConfig.h"

namespace faultline {

class Worker;
class Resolver;

struct EngineSettings {
  int workers = 0;                  // 0: one per core
  Nanos connect_timeout = std::chrono::seconds(10);
  uint64_t seed = 0;
};

class Engine {
 public:
  explicit Engine(EngineSettings settings);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int worker_count() const { return static_cast<int>(workers_.size()); }
  uint64_t seed() const { return settings_.seed; }

  // Starts serving `listen_fd` (already listening) for the proxy `runtime`.
  void start_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, const ToxicChainConfig& up,
                   const ToxicChainConfig& down);
  // Stops accepting and closes every connection of the proxy. The caller
  // closes the listening socket afterwards.
  void stop_proxy(uint64_t id);
  // Stops accepting for good (shutdown): live connections go on, new clients
  // are refused at once. The listening socket stays open, and keeps its port,
  // until the caller closes it.
  void stop_accepting(uint64_t id);
  void set_toxics(uint64_t id, Direction direction, const ToxicChainConfig& toxics);
  void stop();  // closes everything and joins the threads

 private:
  void on_every_worker(const std::function<void(Worker&)>& fn);

  EngineSettings settings_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool stopped_ = false;
};

}  // namespace faultline
