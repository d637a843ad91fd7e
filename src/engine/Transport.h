#pragma once
// The seam between a running proxy and the protocol it carries. A proxy's
// share of one event loop (LoopProxy) owns a listener, which admits clients,
// and a list of sessions, one per client. TCP implements both today
// (TcpListener accepts, Connection serves); a UDP proxy will implement the
// same two interfaces (a bound socket, a session per client address) and
// plug in through make_listener().
#include <memory>
#include <string>

#include "engine/EventLoop.h"
#include "model/Direction.h"
#include "toxics/ToxicConfig.h"

namespace faultline {

class Worker;
struct LoopProxy;

// One client of a proxy, on one loop from its start to its close.
class ProxySession : public Disposable {
 public:
  virtual void start() = 0;
  virtual void apply_toxics(Direction direction, const ToxicChainConfig& toxics) = 0;
  virtual void close_gracefully() = 0;  // ends the session now (FIN, not RST)
  virtual void count_kernel_bytes() {}  // -fast-path bpf: what the kernel moved, into the byte counters

  // Intrusive list of the proxy's sessions on this loop.
  ProxySession* prev = nullptr;
  ProxySession* next = nullptr;
};

// How clients of a proxy arrive on one loop.
class ProxyListener {
 public:
  virtual ~ProxyListener() = default;
  virtual void start() = 0;                // begins to admit clients
  virtual int stop_accepting() = 0;        // for good; returns the socket it stopped watching, or -1
  virtual void pause_for_descriptors() = 0;  // out of descriptors: admit none for a moment
};

// The listener for `protocol` ("tcp"); nullptr for a protocol not supported.
std::unique_ptr<ProxyListener> make_listener(const std::string& protocol, Worker& worker, LoopProxy& proxy);

}  // namespace faultline
