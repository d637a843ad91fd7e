#pragma once
// One proxied client connection: the accepted client socket, the socket to the
// upstream, and the two links between them. It lives on one event loop from
// accept to close and is never touched by another thread.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/EventLoop.h"
#include "engine/Link.h"
#include "engine/Transport.h"
#include "net/SocketAddress.h"

namespace faultline {

class Worker;
struct LoopProxy;

class Connection final : public ProxySession {
 public:
  enum class CloseKind { Graceful, Reset };

  Connection(Worker& worker, LoopProxy& proxy, int client_fd, net::SocketAddress client_address, uint64_t sequence);
  ~Connection() override;

  void start() override;  // resolves the upstream and connects to it
  void close(CloseKind kind);
  void close_gracefully() override { close(CloseKind::Graceful); }
  void count_kernel_bytes() override;
  bool closed() const { return state_ == State::Closed; }
  void apply_toxics(Direction direction, const ToxicChainConfig& toxics) override;

  // For the links.
  EventLoop& loop();
  PipePool& pipes();
  BufferPool& buffers();
  void link_finished();
  bool other_link_finished(Direction d) const { return (d == Direction::Upstream ? down_ : up_).finished(); }
  // Resets the connection once the peer on `fd` has acknowledged every byte
  // written to it (a toxic cuts a stream after exactly N bytes), or after a
  // second at most.
  void reset_once_delivered(int fd);
  void wait_writable(SocketSide& side);  // a write would block: tell me when it would not
  void count_received(Direction d, size_t n);
  void count_sent(Direction d, size_t n);
  uint64_t random_seed(const ToxicConfig& toxic) const;
  void report(ChaosEventKind kind, const ToxicConfig& toxic, Direction direction, std::string_view detail = {}) const;
  void report_http_fault(const ToxicConfig& toxic, Direction direction, const HttpFault& fault, std::string_view detail) const;
  void count_http_exchange(int status, Nanos duration) const;
  void kernel_direction(bool armed);  // a link handed its direction to the kernel, or took it back
  Link& link(Direction d) { return d == Direction::Upstream ? up_ : down_; }
  const ConnectionInfo& info() const;  // built on first use: most connections never ask
  uint64_t proxy_id() const;
  SharedToxicState& shared_state() { return shared_state_; }


 private:
  enum class State { Resolving, Connecting, Open, Blackholed, Closed };
  void blackhole(Nanos for_how_long);  // a drop toxic's blackholed mode
  void drain_blackholed_client();

  class Watch final : public IoHandler {
   public:
    Watch(Connection& c, bool is_client) : connection_(c), is_client_(is_client) {}
    void on_io(uint32_t events) override { connection_.on_io(is_client_, events); }

   private:
    Connection& connection_;
    bool is_client_;
  };

  void on_io(bool is_client, uint32_t events);
  bool peer_reset(SocketSide& side);  // closes the connection when the socket has an error
  void dial();  // resolves the upstream (when a name) and connects
  void connect_next();
  void on_connect_result(int error);
  void on_connected();
  void fail_upstream(const std::string& reason);
  void maybe_join_kernel();  // -fast-path bpf: when the connection is quiet enough
  void join_kernel();  // -fast-path bpf: both sockets into the kernel's sockhash

  Worker& worker_;
  LoopProxy& proxy_;
  uint64_t sequence_;
  net::SocketAddress client_address_;
  mutable std::unique_ptr<ConnectionInfo> info_;
  SharedToxicState shared_state_;
  State state_ = State::Resolving;
  TimePoint opened_at_;
  SocketSide client_;
  SocketSide upstream_;
  Watch client_watch_{*this, true};
  Watch upstream_watch_{*this, false};
  Link up_{*this, Direction::Upstream, client_, upstream_};
  Link down_{*this, Direction::Downstream, upstream_, client_};
  std::vector<net::SocketAddress> candidates_;
  size_t next_candidate_ = 0;
  std::string last_connect_error_;
  Timer connect_timer_;
  Timer descriptor_retry_timer_;
  Timer dial_timer_;  // a toxic delays the upstream connect
  Timer reset_timer_;  // reset_once_delivered polls the send queue
  Timer kernel_join_timer_;  // -fast-path bpf: joins once the connection has proved long-lived
  uint64_t moved_at_join_check_ = 0;
  TimePoint reset_deadline_{};
  int reset_fd_ = -1;
  uint64_t bytes_received_[2] = {0, 0};
  int kernel_directions_ = 0;  // directions the kernel redirects now
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for late resolver answers
};

}  // namespace faultline
