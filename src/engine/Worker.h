#pragma once
// One data-plane thread: an event loop plus everything it owns — its share of
// every running proxy (a watch on the shared listening socket, the
// connections it accepted, the proxy's current toxics) and its pools.
#include <memory>
#include <thread>
#include <unordered_map>

#include "engine/BufferPool.h"
#include "engine/EventLoop.h"
#include "engine/MemoryTrimmer.h"
#include "engine/PipePool.h"
#include "engine/ProxyRuntime.h"
#include "engine/Transport.h"
#include "toxics/ToxicConfig.h"

namespace faultline {

class Resolver;
class KernelRedirect;

// A running proxy as one worker sees it: its listener, its sessions and its toxics.
struct LoopProxy {
  LoopProxy(std::shared_ptr<ProxyRuntime> rt, int fd) : runtime(std::move(rt)), listen_fd(fd) {}

  std::shared_ptr<ProxyRuntime> runtime;
  int listen_fd;             // shared by all workers; owned by the control plane
  ToxicSnapshotPtr toxics;   // never null
  std::unique_ptr<ProxyListener> listener;
  ProxySession* sessions = nullptr;  // intrusive list head
};

struct EngineSettings;

class Worker {
 public:
  Worker(int index, const EngineSettings& settings, Resolver& resolver);
  ~Worker();

  void start();  // spawns the thread
  void join();
  bool is_current_thread() const { return thread_.get_id() == std::this_thread::get_id(); }
  EventLoop& loop() { return loop_; }
  PipePool& pipes() { return pipes_; }
  BufferPool& buffers() { return buffers_; }
  Resolver& resolver() { return resolver_; }
  KernelRedirect* kernel() const;  // -fast-path bpf; null: splice only
  Nanos connect_timeout() const;

  // Loop thread only.
  void add_proxy(std::shared_ptr<ProxyRuntime> runtime, int listen_fd, ToxicSnapshotPtr toxics);
  void remove_proxy(uint64_t id);       // stops accepting and closes its connections
  int stop_accepting(uint64_t id);       // returns the listening socket it stopped watching, or -1
  void set_toxics(uint64_t id, ToxicSnapshotPtr toxics);  // older versions than the current one are ignored
  void cut_connections(uint64_t id);  // closes the proxy's open connections; it goes on accepting
  void count_kernel_bytes();          // every connection's bytes the kernel moved, into the counters
  void session_opened(LoopProxy& proxy, ProxySession* session);  // takes ownership and starts it
  void session_closed(LoopProxy& proxy, ProxySession* session);  // destroyed at the end of this loop round
  Nanos descriptor_retry_delay() const;

 private:
  void close_all(LoopProxy& proxy);

  [[maybe_unused]] int index_;  // for debugging: which worker this is
  const EngineSettings& settings_;
  Resolver& resolver_;
  EventLoop loop_;  // on settings_.time
  PipePool pipes_;
  BufferPool buffers_;
  MemoryTrimmer trimmer_{loop_, buffers_};
  std::thread thread_;
  std::unordered_map<uint64_t, std::unique_ptr<LoopProxy>> proxies_;
};

}  // namespace faultline
