#pragma once
// One direction of a proxied connection: bytes read from a source socket and
// written to a destination socket. With no active toxic the bytes go through
// a pipe with splice(2) and never enter user space; with toxics they are read
// into pooled buffers and run through the toxic chain. The two paths switch
// at chunk boundaries without losing or reordering a byte: whatever sits in
// the pipe is always older than what sits in the output queue.
//
// With -fast-path bpf the connection's sockets are in the kernel's sockhash
// (engine/KernelRedirect.h) and splice is not possible: a direction with no
// active toxic is handed to the kernel ("armed") once user space holds none
// of its bytes, and taken back when a toxic arrives or the source ends; no
// byte is written to the destination until the kernel's redirected bytes
// are all in the destination socket.
#include <sys/types.h>

#include <cstdint>

#include "engine/ChunkQueue.h"
#include "engine/KernelRedirect.h"
#include "engine/EventLoop.h"
#include "engine/PipePool.h"
#include "model/Direction.h"
#include "toxics/ToxicChain.h"

namespace faultline {

class Connection;

// Readiness of one socket, shared by the two links that use it.
struct SocketSide {
  int fd = -1;
  bool readable = false;
  bool writable = false;
  bool watching_writes = false;  // EPOLLOUT is in the interest set (only while a write is blocked)
};

class Link final : public ToxicContext, public Continuable {
 public:
  Link(Connection& connection, Direction direction, SocketSide& source, SocketSide& destination);
  ~Link();

  void apply_toxics(const ToxicChainConfig& toxics);
  AcceptVerdict before_connect() { return chain_.before_connect(); }
  void pump();            // moves what it can now; asks to be resumed if it stopped early
  void resume() override { pump(); }
  bool finished() const { return destination_shut_; }
  void release_resources();  // on close: pipes and buffers go back
  // The connection joined the kernel's sockhash (-fast-path bpf).
  KernelRedirect::Start kernel_start() const;  // how this direction may begin in the kernel
  void join_kernel(KernelRedirect& kernel, uint64_t source_cookie, uint64_t destination_cookie, bool redirecting);
  void join_kernel_passing_only(KernelRedirect& kernel, uint64_t source_cookie);  // its peer could not join
  void leave_kernel();  // on close, before the sockets are: counts what the kernel moved
  bool in_kernel() const { return armed_; }
  // Its source was read until it had nothing more and no bytes wait in the pipe.
  bool drained() const { return !source_.readable && pipe_bytes_ == 0; }
  uint64_t bytes_read() const { return read_; }
  void count_kernel_bytes();  // what the kernel moved so far, into the proxy's byte counters

  // Bytes written straight to the destination, after what is queued (a
  // toxic on the other direction replying), and a FIN after them.
  void inject(Chunk chunk) { chain_output(std::move(chunk)); }
  void end_injected_output() { chain_output_eof(); }

  // ToxicContext
  TimePoint now() const override;
  TimerQueue& timers() override;
  const ConnectionInfo& connection() const override;
  Direction direction() const override { return direction_; }
  SharedToxicState& shared_state() override;
  void chain_output(Chunk chunk) override;
  void chain_output_eof() override;
  void chain_released() override;
  size_t output_backlog() const override { return out_.size(); }
  void reply(Chunk chunk) override;
  void end_reply() override;
  void close_connection(bool reset) override;
  void close_after_output_written() override;
  void reset_after_output_written() override;
  void make_writable(Chunk& chunk) override;
  Chunk new_chunk(std::string_view bytes) override;
  uint64_t random_seed(const ToxicConfig& toxic) override;
  void chaos_event(ChaosEventKind kind, const ToxicConfig& toxic, std::string_view detail) override;
  void http_fault(const ToxicConfig& toxic, const HttpFault& fault, std::string_view detail) override;
  void http_exchange(int status, Nanos duration) override;

 private:
  enum class Step { Progress, Blocked, Closed };
  EventLoop& loop();
  bool fast_path() const { return !chain_.has_active_stage() && out_.empty() && !copy_only_; }
  void request_pump();  // resume soon, unless the connection is closed
  bool room_for_input() const;
  bool output_empty() const { return pipe_bytes_ == 0 && out_.empty(); }
  Step splice_in();
  Step splice_out();
  Step read_in();
  Step write_out();
  Step write_failed(ssize_t result);
  void finish_if_done();
  void fail(int err);
  void maybe_arm_kernel();    // hand the direction to the kernel if user space holds none of its bytes
  void disarm_kernel();       // take it back: the program passes everything from now on
  bool kernel_flushed();      // every byte the kernel redirected is in the destination socket
  void noticed_pass_while_armed();
  bool passed_bytes_still_coming();  // a read said "end", but the kernel still holds bytes it passed
  void look_again_later(Nanos& wait);  // a kernel wait: pump again after `wait`, which doubles each time
  void hand_over_for_toxics();  // the direction's toxics changed
  uint64_t hold_key() const;
  bool destination_connected_by_us() const { return direction_ == Direction::Upstream; }
  uint64_t written_as_kernel_counts() const { return written_ + syn_in_acked_count(destination_connected_by_us()); }
  void count_as_armed(uint64_t redirected_now);  // the bookkeeping of arming, with no system call
  void count_as_disarmed(TimePoint at);

  Connection& connection_;
  Direction direction_;
  SocketSide& source_;
  SocketSide& destination_;

  Pipe pipe_{};
  bool has_pipe_ = false;
  bool pipe_maybe_full_ = false;
  bool copy_only_ = false;  // no pipe could be had: copy through buffers instead
  size_t pipe_bytes_ = 0;

  ChunkQueue out_;
  size_t out_bytes_ = 0;
  ToxicChain chain_;

  bool source_ended_ = false;
  bool eof_entered_chain_ = false;
  bool eof_left_chain_ = false;
  bool destination_shut_ = false;
  bool close_when_written_ = false;
  bool reset_when_written_ = false;
  bool pumping_ = false;

  // -fast-path bpf (see the top of this file).
  KernelRedirect* kernel_ = nullptr;
  uint64_t source_cookie_ = 0, destination_cookie_ = 0;
  bool armed_ = false;          // the program redirects this direction's bytes
  bool kernel_used_ = false;    // it may have, since the last time its bytes were known to be out
  bool read_since_arm_ = false;
  uint64_t redirected_at_arm_ = 0;  // the program's count when we last armed
  bool never_arm_ = false;          // the peer socket is not in the map
  bool armed_before_toxics_ = false;  // taken back for toxics while the program still redirected
  uint64_t read_when_disarmed_ = 0;
  TimePoint disarmed_at_{};
  uint64_t read_ = 0;           // bytes user space read from the source
  uint64_t read_at_join_ = 0;   // of which before the sockets joined the map (the rest were passed)
  Nanos end_wait_{};            // a read said "end" while passed bytes were still to come: the next look
  Nanos flush_wait_{};          // the kernel's redirected bytes are not all in the destination yet: the next look
  uint64_t written_ = 0;        // bytes user space wrote to the destination
  uint64_t kernel_counted_ = 0; // redirected bytes already in the proxy's counters
  Timer flush_timer_;
};

}  // namespace faultline
