#pragma once
// One thread of `faultline load`: a set of simulated clients of one target,
// each with up to `pipeline` requests outstanding on its connection (one
// unless asked), on its own event loop.
//
// Closed loop (--concurrency): every client sends its next request as soon
// as the last one is answered, as wrk does. Open loop (--rate): requests
// are due at fixed times whatever happens; a due request waits for a free
// client, and its latency counts from when it was due, not from when it
// could be sent, so a stall shows up in full (no coordinated omission).
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/EventLoop.h"
#include "load/Codec.h"
#include "load/IntervalRecord.h"
#include "load/LoadTarget.h"

namespace faultline::load {

struct WorkerPlan {
  TargetSpec target;
  size_t target_index = 0;
  size_t clients = 1;
  double rate = 0;                 // requests per second for this worker; 0: closed loop
  Nanos rate_offset{0};            // when this worker's first request is due, after `start`
  Nanos timeout = std::chrono::seconds(1);
  bool new_connections = false;    // a connection per request
  size_t pipeline = 1;             // requests in flight per client, answered in order
  TimePoint start;                 // the run's time zero
  TimePoint measure_from;          // requests due before this are warm-up
  TimePoint end;                   // no request is due at or after this
  uint64_t seed = 1;
};

// What a worker measured after the warm-up (requests due from measure_from on).
struct WorkerTotals {
  uint64_t ok = 0;
  ErrorCounts errors{};
  std::array<std::string, kErrorClasses> example;  // the first message of each class
  LatencyHistogram latency{3};
};

struct ResolvedEndpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};
// Resolves every endpoint of `target` (a name once, before the run); throws TargetError.
std::vector<ResolvedEndpoint> resolve_endpoints(const TargetSpec& target);

class LoadWorker {
 public:
  LoadWorker(WorkerPlan plan, std::vector<ResolvedEndpoint> endpoints, IntervalSink& sink);
  ~LoadWorker();

  void run();             // on the worker's thread; returns when its requests are done
  void finish_now();      // any thread: no more requests (Ctrl+C); in-flight ones still finish
  const WorkerTotals& totals() const { return totals_; }  // after run() returned

 private:
  struct Client;
  struct Connection;
  friend struct Client;
  friend struct Connection;

  struct Due {
    TimePoint at;
    std::string request;
  };
  void begin();
  void pace();                                   // open loop: queue the requests now due
  void dispatch();                               // hand queued requests to idle clients
  void client_idle(Client& c, bool after_error, size_t slots = 1);  // `slots` requests of `c` ended
  void record_ok(TimePoint due, TimePoint now);
  void record_error(TimePoint due, TimePoint now, ErrorClass what, const std::string& message);
  void tick();                                   // every slice: hand finished slices to the sink
  void flush_until(int64_t slice);
  int64_t slice_of(TimePoint t) const;
  bool issuing() const { return !finishing_; }
  void maybe_finish();

  WorkerPlan plan_;
  std::vector<ResolvedEndpoint> endpoints_;
  IntervalSink& sink_;
  EventLoop loop_;
  std::vector<std::unique_ptr<Client>> clients_;
  // Per server of the target: clients are bound to one server each, as a
  // client library keeps a pool per server, so a slow server holds up only
  // the requests whose keys live there.
  std::vector<std::vector<Client*>> idle_;
  std::vector<std::deque<Due>> due_;             // open loop: requests due, not yet sent
  std::unique_ptr<Codec> planner_;               // open loop: draws each request as it falls due
  uint64_t paced_ = 0;                           // open loop: requests made due so far
  Timer pacer_, ticker_, ender_, drain_limit_, dispatcher_;
  bool finishing_ = false;
  std::atomic<bool> finish_requested_{false};
  IntervalRecord current_;
  WorkerTotals totals_;
};

}  // namespace faultline::load
