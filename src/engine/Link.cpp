#include "engine/Link.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/Connection.h"

namespace faultline {
namespace {

// Bytes a direction may hold in user space (toxic queues plus output) before
// it stops reading and lets TCP flow control push back on the sender.
constexpr size_t kMaxHeldBytes = 4 * 1024 * 1024;
// System calls one pump may make before it yields to other connections.
constexpr int kPumpBudget = 32;

}  // namespace

// A verdict that read the old control entry just before a switch finishes
// counting within microseconds; the flush check waits at least this long.
constexpr auto kKernelSettle = std::chrono::milliseconds(1);
// Waiting for the kernel (its redirected bytes to reach the destination, or
// passed bytes to reach us) has no event to wait for, so we look again: after
// kKernelSettle, doubling up to this, so that a reader that stays stuck
// costs about 16 looks a second, not a thousand.
constexpr Nanos kLongestKernelWait = std::chrono::milliseconds(64);

Link::Link(Connection& connection, Direction direction, SocketSide& source, SocketSide& destination)
    : connection_(connection), direction_(direction), source_(source), destination_(destination), chain_(*this) {
  flush_timer_.set_callback([this] { request_pump(); });
}

Link::~Link() {
  if (kernel_) connection_.loop().timers().cancel(flush_timer_);
  release_resources();
}

EventLoop& Link::loop() { return connection_.loop(); }
TimePoint Link::now() const { return connection_.loop().now(); }
TimerQueue& Link::timers() { return connection_.loop().timers(); }
const ConnectionInfo& Link::connection() const { return connection_.info(); }
SharedToxicState& Link::shared_state() { return connection_.shared_state(); }

void Link::apply_toxics(const ToxicChainConfig& toxics) {
  if (toxics.empty() && !chain_.has_stages()) return;  // a new connection of a proxy without toxics
  chain_.apply(toxics);
  if (kernel_) hand_over_for_toxics();
  request_pump();
}

// A proxy's direction with toxics is held by the program as a whole (the
// engine set that before this change reached us), so taking the direction
// back costs no system call here: its control entry may keep saying
// "redirect". Bytes the program passes are read and, if it had redirected
// since we armed, written only after the kernel's (noticed_pass_while_armed).
// When the toxics go and nothing passed meanwhile, the program redirects
// again as before, so we count the direction as armed again.
void Link::hand_over_for_toxics() {
  if (armed_ && chain_.has_active_stage()) {
    if (!kernel_->held(hold_key())) return disarm_kernel();  // the map refused the hold: switch this one ourselves
    count_as_disarmed(loop().now());
    armed_before_toxics_ = true;
    read_when_disarmed_ = read_;
    return;
  }
  if (armed_before_toxics_ && !chain_.has_stages() && !kernel_->held(hold_key())) {
    armed_before_toxics_ = false;
    if (read_ != read_when_disarmed_ || !out_.empty() || chain_.held_bytes() > 0) return;  // it passed bytes: arm afresh when caught up
    count_as_armed(redirected_at_arm_);  // the program's entries never changed
  }
}

uint64_t Link::hold_key() const { return KernelRedirect::hold_key(connection_.proxy_id(), index_of(direction_)); }

KernelRedirect::Start Link::kernel_start() const {
  // Joining happens only between reads (drained()): if we also hold none
  // of the bytes we read, the very first buffer can go to the kernel. A
  // busy stream would rarely give us the quiet moment arming needs later.
  const bool holds_nothing = out_.empty() && chain_.held_bytes() == 0 && !chain_.has_active_stage();
  return {drained() && holds_nothing && !source_ended_, written_as_kernel_counts(), hold_key()};
}

void Link::join_kernel(KernelRedirect& kernel, uint64_t source_cookie, uint64_t destination_cookie, bool redirecting) {
  kernel_ = &kernel;
  source_cookie_ = source_cookie;
  destination_cookie_ = destination_cookie;
  read_at_join_ = read_;
  copy_only_ = true;  // a socket in a sockhash cannot be spliced from (bytes already in the pipe still go out)
  if (redirecting) count_as_armed(0);
}

void Link::join_kernel_passing_only(KernelRedirect& kernel, uint64_t source_cookie) {
  join_kernel(kernel, source_cookie, 0, false);
  never_arm_ = true;
}

void Link::leave_kernel() {
  if (!kernel_) return;
  loop().timers().cancel(flush_timer_);
  count_kernel_bytes();
  kernel_->leave(source_cookie_);
  kernel_ = nullptr;
  count_as_disarmed(loop().now());
}

void Link::maybe_arm_kernel() {
  // Any toxic on the direction, active here or not, holds it in the program.
  if (!kernel_ || never_arm_ || source_ended_ || pipe_bytes_ > 0 || !out_.empty() || chain_.has_stages() ||
      chain_.held_bytes() > 0)
    return;
  if (armed_ && !read_since_arm_) return;
  if (kernel_used_ && !armed_ && !kernel_flushed()) return;
  // Everything we read has been written on. Tell the program how many of
  // the bytes it passed that covers (`delivered`); it redirects a buffer
  // only while it has passed exactly that many, i.e. when no passed byte is
  // still unread or unwritten. The program's counts are read before the
  // socket's total, so bytes that arrive in between can only make our
  // figure too small (the program keeps passing, and we say it again after
  // the next read), never too large. A stream that never pauses is handed
  // over this way too: the first buffer after we caught up goes to the kernel.
  const KernelRedirect::Counts counts = kernel_->counts(source_cookie_);
  SocketTotals source{};
  if (!socket_totals(source_.fd, !destination_connected_by_us(), source)) return;
  if (source.received < read_ + counts.redirected) return;
  const uint64_t unread = source.received - read_ - counts.redirected;  // passed but not read, or not yet judged
  if (unread > counts.passed) return;
  if (!kernel_->control(source_cookie_, destination_cookie_, hold_key(), true, counts.passed - unread, written_as_kernel_counts()))
    return;
  count_as_armed(counts.redirected);
}

void Link::count_as_armed(uint64_t redirected_now) {
  if (!armed_) connection_.kernel_direction(true);
  armed_ = true;
  kernel_used_ = true;
  read_since_arm_ = false;
  armed_before_toxics_ = false;
  redirected_at_arm_ = redirected_now;
}

void Link::count_as_disarmed(TimePoint at) {
  if (armed_) connection_.kernel_direction(false);
  armed_ = false;
  disarmed_at_ = at;
}

void Link::disarm_kernel() {
  kernel_->control(source_cookie_, destination_cookie_, hold_key(), false, 0, 0);
  count_as_disarmed(loop().now());
}

// Bytes passed while armed are normally the last of those passed before
// the program caught up. But if it has redirected since we armed, it passed
// because the peer socket had no room (the program's backlog limit): the
// redirected bytes are still on their way and ours must wait for them, as
// after a disarm. The program keeps passing until we arm again.
void Link::noticed_pass_while_armed() {
  if (kernel_->counts(source_cookie_).redirected == redirected_at_arm_) return;
  count_as_disarmed(loop().now() - kKernelSettle);  // no verdict can still read an old control: nothing changed it
}

bool Link::kernel_flushed() {
  if (!kernel_used_) return true;
  const KernelRedirect::Counts counts = kernel_->counts(source_cookie_);
  SocketTotals destination{};
  const bool settled = loop().now() - disarmed_at_ >= kKernelSettle;
  if (settled && (!socket_totals(destination_.fd, destination_connected_by_us(), destination) || destination.written >= written_ + counts.redirected)) {
    kernel_used_ = false;
    flush_wait_ = {};
    count_kernel_bytes();
    return true;
  }
  look_again_later(flush_wait_);
  return false;
}

void Link::look_again_later(Nanos& wait) {
  if (flush_timer_.armed()) return;
  wait = wait == Nanos{} ? Nanos(kKernelSettle) : std::min<Nanos>(wait * 2, kLongestKernelWait);
  loop().timers().arm(flush_timer_, loop().now() + wait);
}

// In the kernel's map, a socket whose peer's FIN is in reads as ended as
// soon as its own queue is empty, even while the kernel still holds bytes
// the program passed: they wait in the socket's kernel work queue behind
// bytes redirected *to* that socket that it has no room for yet (a client
// that reads its reply late), and reach us when those have gone. They are
// the stream's last bytes, so the end waits for them. Every byte read since
// joining was passed by the program, so its count says whether any are
// missing. The kernel says "readable" when they arrive; we also look again
// now and then rather than trust that alone.
bool Link::passed_bytes_still_coming() {
  if (kernel_->counts(source_cookie_).passed <= read_ - read_at_join_) return false;
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(source_.fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0) {
    fail(error);  // the kernel dropped its queue: what would we wait for
    return false;
  }
  look_again_later(end_wait_);
  return true;
}

void Link::count_kernel_bytes() {
  if (!kernel_) return;
  const uint64_t redirected = kernel_->counts(source_cookie_).redirected;
  if (redirected <= kernel_counted_) return;
  const auto moved = static_cast<size_t>(redirected - kernel_counted_);
  kernel_counted_ = redirected;
  connection_.count_received(direction_, moved);
  connection_.count_sent(direction_, moved);
}

void Link::request_pump() {
  // A closed connection is gone at the end of this loop round: nothing may
  // ask to run it later (the loop would resume a destroyed link).
  if (!connection_.closed()) loop().resume_soon(this);
}

bool Link::room_for_input() const {
  if (fast_path()) return !pipe_maybe_full_;
  return out_bytes_ + chain_.held_bytes() < kMaxHeldBytes;
}

void Link::pump() {
  if (connection_.closed() || pumping_) return;
  struct ReturnIdlePipe {  // an idle link holds no pipe: two descriptors saved
    Link& link;
    ~ReturnIdlePipe() {
      if (link.has_pipe_ && link.pipe_bytes_ == 0 && !link.connection_.closed()) {
        link.connection_.pipes().give_back(link.pipe_);
        link.has_pipe_ = false;
        link.pipe_maybe_full_ = false;
      }
    }
  } return_idle_pipe{*this};
  pumping_ = true;
  int budget = kPumpBudget;
  bool progress = true;
  while (progress && budget > 0 && !connection_.closed()) {
    progress = false;
    const bool has_output = pipe_bytes_ > 0 || !out_.empty();
    if (destination_.writable && !destination_shut_ && has_output && (!kernel_used_ || armed_ || kernel_flushed())) {
      Step s = pipe_bytes_ > 0 ? splice_out() : (!out_.empty() ? write_out() : Step::Blocked);
      if (s == Step::Closed) break;
      if (s == Step::Progress) progress = true, --budget;
    }
    if (source_.readable && !source_ended_ && room_for_input()) {
      Step s = fast_path() ? splice_in() : read_in();
      if (s == Step::Closed) break;
      if (s == Step::Progress) progress = true, --budget;
    }
    finish_if_done();
  }
  pumping_ = false;
  if (kernel_ && !connection_.closed()) maybe_arm_kernel();
  if (budget == 0 && !connection_.closed()) request_pump();
}

Link::Step Link::splice_in() {
  if (!has_pipe_) {
    if (!connection_.pipes().take(pipe_)) {
      copy_only_ = true;  // out of descriptors: this link copies from now on
      return read_in();
    }
    has_pipe_ = true;
  }
  const size_t room = pipe_.capacity - std::min(pipe_bytes_, pipe_.capacity);
  if (room == 0) {
    pipe_maybe_full_ = true;  // (a zero-length splice would read as end of stream)
    return Step::Blocked;
  }
  const ssize_t n = ::splice(source_.fd, nullptr, pipe_.write_end, nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    pipe_bytes_ += static_cast<size_t>(n);
    read_ += static_cast<size_t>(n);
    connection_.count_received(direction_, static_cast<size_t>(n));
    return Step::Progress;
  }
  if (n == 0) {
    source_ended_ = true;
    return Step::Progress;
  }
  if (errno == EAGAIN) {
    // Either the socket is drained or the pipe is full; with bytes in the
    // pipe we cannot tell, so wait until some of them are written.
    if (pipe_bytes_ == 0) source_.readable = false;
    else pipe_maybe_full_ = true;
    return Step::Blocked;
  }
  if (errno == EINTR) return Step::Progress;
  if (errno == EINVAL) {
    copy_only_ = true;  // a socket that cannot splice
    return Step::Progress;
  }
  fail(errno);
  return Step::Closed;
}

Link::Step Link::splice_out() {
  const ssize_t n = ::splice(pipe_.read_end, nullptr, destination_.fd, nullptr, pipe_bytes_,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    pipe_bytes_ -= static_cast<size_t>(n);
    written_ += static_cast<size_t>(n);
    pipe_maybe_full_ = false;
    connection_.count_sent(direction_, static_cast<size_t>(n));
    return Step::Progress;
  }
  return write_failed(n);
}

Link::Step Link::read_in() {
  BufferRef buffer = connection_.buffers().take();
  const ssize_t n = ::read(source_.fd, buffer.data(), Buffer::kSize);
  if (n > 0) {
    read_ += static_cast<size_t>(n);
    read_since_arm_ = true;
    end_wait_ = {};
    if (armed_) noticed_pass_while_armed();
    connection_.count_received(direction_, static_cast<size_t>(n));
    chain_.push(Chunk{std::move(buffer), 0, static_cast<size_t>(n), loop().now()});
    return Step::Progress;
  }
  if (n == 0) {
    if (kernel_ && passed_bytes_still_coming()) return Step::Blocked;
    if (connection_.closed()) return Step::Closed;
    source_ended_ = true;
    if (armed_) disarm_kernel();  // its last bytes may still be on their way: finish_if_done waits for them
    return Step::Progress;
  }
  if (errno == EAGAIN) {
    source_.readable = false;
    return Step::Blocked;
  }
  if (errno == EINTR) return Step::Progress;
  fail(errno);
  return Step::Closed;
}

Link::Step Link::write_out() {
  // One write per chunk: a toxic that slices data wants each piece to leave
  // as its own segment (the sockets have TCP_NODELAY).
  Chunk& head = out_.front();
  const ssize_t n = ::send(destination_.fd, head.data(), head.length, MSG_NOSIGNAL);
  if (n > 0) {
    const auto written = static_cast<size_t>(n);
    written_ += written;
    out_bytes_ -= written;
    connection_.count_sent(direction_, written);
    if (written == head.length) {
      out_.pop_front();
      if (out_.empty()) chain_.output_drained();
    } else {
      head.offset += written, head.length -= written;
    }
    return Step::Progress;
  }
  return write_failed(n);
}

// A write (splice or send) moved nothing: blocked, interrupted or broken.
Link::Step Link::write_failed(ssize_t result) {
  if (result < 0 && errno == EAGAIN) {
    connection_.wait_writable(destination_);
    return Step::Blocked;
  }
  if (result < 0 && errno == EINTR) return Step::Progress;
  fail(result < 0 ? errno : EPIPE);
  return Step::Closed;
}

void Link::finish_if_done() {
  if (source_ended_ && !eof_entered_chain_) {
    eof_entered_chain_ = true;
    chain_.push_eof();  // comes out after every byte before it, unless a toxic delays it
    if (connection_.closed()) return;
  }
  if (!output_empty()) return;
  if (eof_left_chain_ && !destination_shut_ && kernel_used_ && !kernel_flushed()) return;  // the kernel's bytes go first
  if (reset_when_written_) {
    connection_.reset_once_delivered(destination_.fd);
    return;
  }
  if (close_when_written_) {
    connection_.close(Connection::CloseKind::Graceful);
    return;
  }
  if (eof_left_chain_ && !destination_shut_ && connection_.other_link_finished(direction_)) {
    // The other direction is over too: closing sends the FIN, no half-close needed.
    destination_shut_ = true;
    connection_.link_finished();
    return;
  }
  if (eof_left_chain_ && !destination_shut_) {
    // Half-close: the destination learns the source is done; the other
    // direction keeps flowing until it ends too.
    ::shutdown(destination_.fd, SHUT_WR);
    destination_shut_ = true;
    connection_.link_finished();
  }
}

void Link::fail(int err) {
  // A peer that reset its side gets the other side reset too, as a direct
  // connection would have shown it.
  const bool reset = err == ECONNRESET;
  connection_.close(reset ? Connection::CloseKind::Reset : Connection::CloseKind::Graceful);
}

void Link::chain_output(Chunk chunk) {
  if (connection_.closed() || chunk.length == 0) return;
  out_bytes_ += chunk.length;
  out_.push_back(std::move(chunk));
  request_pump();
}

void Link::chain_output_eof() {
  eof_left_chain_ = true;
  request_pump();
}

void Link::chain_released() { request_pump(); }

void Link::close_connection(bool reset) {
  connection_.close(reset ? Connection::CloseKind::Reset : Connection::CloseKind::Graceful);
}

void Link::reset_after_output_written() {
  reset_when_written_ = true;
  request_pump();
}

void Link::close_after_output_written() {
  close_when_written_ = true;
  request_pump();
}

void Link::reply(Chunk chunk) { connection_.link(opposite(direction_)).inject(std::move(chunk)); }
void Link::end_reply() { connection_.link(opposite(direction_)).end_injected_output(); }

void Link::make_writable(Chunk& chunk) { make_own(chunk, connection_.buffers()); }
Chunk Link::new_chunk(std::string_view bytes) { return chunk_of(connection_.buffers(), bytes, now()); }

uint64_t Link::random_seed(const ToxicConfig& toxic) { return connection_.random_seed(toxic); }

void Link::chaos_event(ChaosEventKind kind, const ToxicConfig& toxic, std::string_view detail) {
  connection_.report(kind, toxic, direction_, detail);
}

void Link::http_fault(const ToxicConfig& toxic, const HttpFault& fault, std::string_view detail) {
  connection_.report_http_fault(toxic, direction_, fault, detail);
}

void Link::http_exchange(int status, Nanos duration) { connection_.count_http_exchange(status, duration); }

void Link::release_resources() {
  if (has_pipe_) {
    if (pipe_bytes_ == 0) connection_.pipes().give_back(pipe_);
    else PipePool::destroy(pipe_);
    has_pipe_ = false;
    pipe_bytes_ = 0;
  }
  out_.clear();
  out_bytes_ = 0;
}

}  // namespace faultline
