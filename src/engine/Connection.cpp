#include "engine/Connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "engine/Resolver.h"
#include "engine/Worker.h"
#include "log/ChaosEventLog.h"
#include "log/Log.h"
#include "util/ErrnoText.h"

namespace faultline {
namespace {

// Sockets are watched for reading; EPOLLOUT is added only while a write is
// blocked, since an always-on EPOLLOUT wakes the loop on every ACK.
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;
constexpr uint32_t kReadWriteEvents = kReadEvents | EPOLLOUT;
// -fast-path bpf: a connection joins the kernel's map once it has lived this
// long. Joining and leaving cost about a dozen system calls, more than a
// short request-response connection would save; those stay on splice.
constexpr auto kKernelJoinAfter = std::chrono::milliseconds(200);
constexpr auto kKernelJoinRetry = std::chrono::milliseconds(50);
constexpr uint64_t kKernelQuietBytes = 256 << 10;  // moved since the last look: about 5 MB/s

void set_no_delay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void set_reset_on_close(int fd) {
  const linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

}  // namespace

Connection::Connection(Worker& worker, LoopProxy& proxy, int client_fd, net::SocketAddress client_address,
                       uint64_t sequence)
    : worker_(worker), proxy_(proxy), sequence_(sequence), client_address_(client_address), opened_at_(worker.loop().now()) {
  descriptor_retry_timer_.set_callback([this] { connect_next(); });
  reset_timer_.set_callback([this] { reset_once_delivered(reset_fd_); });
  client_.fd = client_fd;  // TCP_NODELAY: inherited from the listening socket (net/ListenSocket.cpp)
  connect_timer_.set_callback([this] {
    last_connect_error_ = "i/o timeout";
    if (upstream_.fd >= 0) {
      ::close(upstream_.fd);
      upstream_.fd = -1;
    }
    connect_next();
  });
}

Connection::~Connection() = default;  // the worker closes a connection before it is destroyed

EventLoop& Connection::loop() { return worker_.loop(); }
PipePool& Connection::pipes() { return worker_.pipes(); }
BufferPool& Connection::buffers() { return worker_.buffers(); }

void Connection::start() {
  // Toxics take effect when the connection starts, before the upstream answers.
  for (Direction d : kDirections) apply_toxics(d, proxy_.toxics->chain(d));
  if (closed()) return;
  // They may refuse the client, or make it wait, before anything is dialled.
  AcceptVerdict verdict = up_.before_connect();
  const AcceptVerdict down = down_.before_connect();
  if (down.action > verdict.action || (down.action == verdict.action && down.delay > verdict.delay)) verdict = down;
  switch (verdict.action) {
    case AcceptVerdict::Action::Refuse: return close(CloseKind::Reset);
    case AcceptVerdict::Action::Close: return close(CloseKind::Graceful);
    case AcceptVerdict::Action::Delay:
      dial_timer_.set_callback([this] { dial(); });
      loop().timers().arm(dial_timer_, loop().now() + verdict.delay);
      return;
    case AcceptVerdict::Action::Blackhole: return blackhole(verdict.delay);
    case AcceptVerdict::Action::Proceed: break;
  }
  dial();
}

// Accepted and then ignored: nothing is dialled and nothing is ever sent.
// What the client sends is read and dropped (so its close is noticed and
// the connection does not outlive it); `for_how_long` ends it with a FIN.
void Connection::blackhole(Nanos for_how_long) {
  state_ = State::Blackholed;
  loop().watch(client_.fd, kReadEvents, &client_watch_);
  if (for_how_long != Nanos::max()) {
    dial_timer_.set_callback([this] { close(CloseKind::Graceful); });
    loop().timers().arm(dial_timer_, loop().now() + for_how_long);
  }
  drain_blackholed_client();
}

void Connection::drain_blackholed_client() {
  char sink[16384];
  for (;;) {
    const ssize_t n = ::recv(client_.fd, sink, sizeof sink, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    return close(n == 0 ? CloseKind::Graceful : CloseKind::Reset);  // the client left
  }
}

void Connection::dial() {
  std::string error;
  const std::string& upstream = proxy_.runtime->upstream;
  auto hp = net::split_host_port(upstream, error);
  if (hp) {
    auto port = net::parse_port(hp->port, error);
    if (port) {
      if (auto literal = net::SocketAddress::from_ip(hp->host.empty() ? "127.0.0.1" : hp->host, *port)) {
        candidates_.push_back(*literal);
        connect_next();
        return;
      }
      // A host name: looked up off the loop, answer posted back.
      std::weak_ptr<bool> alive = alive_;
      EventLoop* loop = &worker_.loop();
      worker_.resolver().resolve(upstream, [this, alive, loop](auto addresses, std::string err) {
        loop->post([this, alive, addresses = std::move(addresses), err = std::move(err)]() mutable {
          if (alive.expired()) return;
          candidates_ = std::move(addresses);
          last_connect_error_ = err;
          connect_next();
        });
      });
      return;
    }
  }
  fail_upstream(error);
}

void Connection::connect_next() {
  if (closed()) return;
  while (next_candidate_ < candidates_.size()) {
    const net::SocketAddress& target = candidates_[next_candidate_++];
    const int fd = ::socket(target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && loop().now() - opened_at_ < worker_.connect_timeout()) {
      // Out of descriptors: the client waits (as new clients wait in the
      // backlog) and this connect is tried again once some are free.
      --next_candidate_;
      proxy_.listener->pause_for_descriptors();
      loop().timers().arm(descriptor_retry_timer_, loop().now() + worker_.descriptor_retry_delay());
      return;
    }
    if (fd < 0) {
      last_connect_error_ = "socket: " + errno_text(errno);
      continue;
    }
    set_no_delay(fd);
    if (::connect(fd, target.get(), target.size()) != 0 && errno != EINPROGRESS) {
      last_connect_error_ = "connect: " + errno_text(errno);
      ::close(fd);
      continue;
    }
    upstream_.fd = fd;
    state_ = State::Connecting;
    loop().watch(fd, kReadWriteEvents, &upstream_watch_);  // EPOLLOUT: the connect completed
    upstream_.watching_writes = true;
    loop().timers().arm(connect_timer_, loop().now() + worker_.connect_timeout());
    return;
  }
  fail_upstream(last_connect_error_.empty() ? "no address" : last_connect_error_);
}

void Connection::on_connect_result(int error) {
  loop().timers().cancel(connect_timer_);
  if (error == 0) {
    on_connected();
    return;
  }
  last_connect_error_ = "connect: " + errno_text(error);
  ::close(upstream_.fd);  // also leaves the epoll set
  upstream_.fd = -1;
  connect_next();
}

void Connection::on_connected() {
  state_ = State::Open;
  proxy_.runtime->stats().upstream_connects.fetch_add(1, std::memory_order_relaxed);
  proxy_.runtime->stats().upstream_connect_nanos.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<Nanos>(loop().now() - opened_at_).count()), std::memory_order_relaxed);
  // The readiness that completed the connect may also have said "readable"
  // (a server that speaks first, or closes at once); with edge-triggered
  // events it will not be said again, so look.
  upstream_.writable = true;
  upstream_.readable = true;
  client_.writable = true;  // a fresh socket has room; EAGAIN will say otherwise
  loop().watch(client_.fd, kReadEvents, &client_watch_);
  if (worker_.kernel()) {
    kernel_join_timer_.set_callback([this] { maybe_join_kernel(); });
    loop().timers().arm(kernel_join_timer_, loop().now() + kKernelJoinAfter);
  }
  // The fields cost system calls: build them only when they will be written.
  if (log::enabled(log::Level::Debug))
    log::debug("connection opened", {{"proxy", proxy_.runtime->name},
                                    {"client", net::SocketAddress::of_peer(client_.fd).to_string()},
                                    {"upstream", net::SocketAddress::of_peer(upstream_.fd).to_string()}});
  up_.pump();
  down_.pump();
}

void Connection::maybe_join_kernel() {
  if (state_ != State::Open) return;
  // A stream that keeps the proxy busy stays on splice: it gains little in
  // the kernel (the kernel's worker threads do the same work), and once its
  // receiver falls behind, the hand-back to user space and the way into the
  // kernel again both need a quiet moment such a stream rarely gives.
  // Only between reads: a buffer half read by us before the socket joins
  // would reach the program whole and be delivered twice.
  const uint64_t moved = up_.bytes_read() + down_.bytes_read();
  const bool quiet = moved - moved_at_join_check_ <= kKernelQuietBytes;
  moved_at_join_check_ = moved;
  if (quiet && up_.drained() && down_.drained()) return join_kernel();
  loop().timers().arm(kernel_join_timer_, loop().now() + kKernelJoinRetry);
}

void Connection::join_kernel() {
  uint64_t client_cookie = 0, upstream_cookie = 0;
  const KernelRedirect::Start up = up_.kernel_start(), down = down_.kernel_start();
  const auto joined = worker_.kernel()->join(client_.fd, upstream_.fd, up, down, client_cookie, upstream_cookie);
  if (log::enabled(log::Level::Debug))
    log::debug("connection joins the kernel's map",
               {{"proxy", proxy_.runtime->name},
                {"joined", joined == KernelRedirect::Joined::Both ? "both" : joined == KernelRedirect::Joined::FirstOnly ? "client only" : "none"},
                {"redirecting_up", up.redirect},
                {"redirecting_down", down.redirect}});
  if (joined != KernelRedirect::Joined::Both) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
      log::warn("a connection could not join the kernel's fast path; it stays in user space", {{"proxy", proxy_.runtime->name}});
    // The client's socket alone in the map: read from it, never redirected.
    if (joined == KernelRedirect::Joined::FirstOnly) up_.join_kernel_passing_only(*worker_.kernel(), client_cookie);
    return;
  }
  up_.join_kernel(*worker_.kernel(), client_cookie, upstream_cookie, up.redirect);
  down_.join_kernel(*worker_.kernel(), upstream_cookie, client_cookie, down.redirect);
  up_.pump();  // each hands its direction to the kernel as soon as it holds no bytes
  down_.pump();
}

uint64_t Connection::proxy_id() const { return proxy_.runtime->id; }

void Connection::count_kernel_bytes() {
  up_.count_kernel_bytes();
  down_.count_kernel_bytes();
}

void Connection::kernel_direction(bool armed) {
  const int before = kernel_directions_;
  kernel_directions_ += armed ? 1 : -1;
  auto& gauge = proxy_.runtime->stats().connections_in_kernel;
  if (before == 0 && kernel_directions_ > 0) gauge.fetch_add(1, std::memory_order_relaxed);
  if (before > 0 && kernel_directions_ == 0) gauge.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::fail_upstream(const std::string& reason) {
  proxy_.runtime->stats().upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
  log::warn("upstream connect failed", {{"proxy", proxy_.runtime->name},
                                        {"upstream", proxy_.runtime->upstream},
                                        {"error", reason}});
  close(CloseKind::Graceful);
}

void Connection::on_io(bool is_client, uint32_t events) {
  if (closed()) return;
  if (state_ == State::Blackholed) {
    if (is_client) drain_blackholed_client();
    return;
  }
  if (!is_client && state_ == State::Connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    // A connect that failed reports EPOLLERR (or EPOLLHUP); only then is
    // its error worth a system call to read.
    int error = 0;
    if (events & (EPOLLERR | EPOLLHUP)) {
      socklen_t len = sizeof error;
      ::getsockopt(upstream_.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    }
    on_connect_result(error);  // on success it also looks for bytes that came with the connect
    return;
  }
  SocketSide& side = is_client ? client_ : upstream_;
  if ((events & EPOLLERR) && peer_reset(side)) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) side.readable = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    side.writable = true;
    if (side.watching_writes) {
      loop().rewatch(side.fd, kReadEvents, is_client ? static_cast<IoHandler*>(&client_watch_) : &upstream_watch_);
      side.watching_writes = false;
    }
  }
  up_.pump();
  down_.pump();
}

bool Connection::peer_reset(SocketSide& side) {
  // A peer that reset is gone for both directions. A link only notices when
  // it next reads or writes that socket, and one whose data a toxic holds
  // (bandwidth 0, after the peer half-closed) may never do either: without
  // this, the connection stayed open until the toxic went away.
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(side.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error == 0) return false;
  close(error == ECONNRESET ? CloseKind::Reset : CloseKind::Graceful);
  return true;
}

void Connection::apply_toxics(Direction direction, const ToxicChainConfig& toxics) {
  if (closed()) return;
  (direction == Direction::Upstream ? up_ : down_).apply_toxics(toxics);
}

void Connection::wait_writable(SocketSide& side) {
  side.writable = false;
  if (side.watching_writes || side.fd < 0) return;
  loop().rewatch(side.fd, kReadWriteEvents, &side == &client_ ? static_cast<IoHandler*>(&client_watch_) : &upstream_watch_);
  side.watching_writes = true;
}

void Connection::link_finished() {
  if (up_.finished() && down_.finished()) close(CloseKind::Graceful);
}

void Connection::count_received(Direction d, size_t n) {
  bytes_received_[index_of(d)] += n;
  proxy_.runtime->stats().counters(d).bytes_received.fetch_add(n, std::memory_order_relaxed);
}

void Connection::count_sent(Direction d, size_t n) {
  proxy_.runtime->stats().counters(d).bytes_sent.fetch_add(n, std::memory_order_relaxed);
}

uint64_t Connection::random_seed(const ToxicConfig& toxic) const {
  // Not the toxic's version or toxicity: a connection keeps its draw for the toxic's life (see ToxicChain.h).
  return mix(mix(proxy_.runtime->random_seed, sequence_), hash_text(toxic.spec.name));
}

const ConnectionInfo& Connection::info() const {
  if (!info_) {
    info_ = std::make_unique<ConnectionInfo>();
    info_->proxy = proxy_.runtime->name;
    info_->sequence = sequence_;
    info_->client = client_address_.size() > 0 ? client_address_.to_string() : "";
    info_->upstream = proxy_.runtime->upstream;
  }
  return *info_;
}

void Connection::report(ChaosEventKind kind, const ToxicConfig& toxic, Direction direction, std::string_view detail) const {
  proxy_.runtime->stats().chaos_events[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  log_chaos_event(ChaosEvent{kind, worker_.loop().now(), proxy_.runtime->name, sequence_, toxic.spec.name,
                             toxic.spec.type_name(), direction, detail});
}

void Connection::report_http_fault(const ToxicConfig& toxic, Direction direction, const HttpFault& fault,
                                    std::string_view detail) const {
  report(ChaosEventKind::HttpRequestFaulted, toxic, direction, detail);
  if (ChaosObserver* observer = proxy_.runtime->chaos_observer)
    observer->http_fault(ChaosEvent{ChaosEventKind::HttpRequestFaulted, worker_.loop().now(), proxy_.runtime->name, sequence_,
                                    toxic.spec.name, toxic.spec.type_name(), direction, detail},
                         fault);
}

void Connection::reset_once_delivered(int fd) {
  if (closed()) return;
  if (reset_fd_ < 0) {
    reset_fd_ = fd;
    reset_deadline_ = loop().now() + Millis(1000);
  }
  int unacknowledged = 0;
  if (::ioctl(fd, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged > 0 && loop().now() < reset_deadline_) {
    loop().timers().arm(reset_timer_, loop().now() + Millis(1));
    return;
  }
  close(CloseKind::Reset);
}

void Connection::count_http_exchange(int status, Nanos duration) const {
  proxy_.runtime->stats().http_requests.get().record(status, duration);
}

void Connection::close(CloseKind kind) {
  if (state_ == State::Closed) return;
  const bool was_open = state_ == State::Open;
  state_ = State::Closed;
  loop().timers().cancel(connect_timer_);
  loop().timers().cancel(descriptor_retry_timer_);
  loop().timers().cancel(dial_timer_);
  loop().timers().cancel(reset_timer_);
  loop().timers().cancel(kernel_join_timer_);
  alive_.reset();
  up_.leave_kernel();  // before the sockets close: what the kernel moved is counted
  down_.leave_kernel();
  for (SocketSide* side : {&client_, &upstream_}) {
    if (side->fd < 0) continue;
    if (kind == CloseKind::Reset) set_reset_on_close(side->fd);
    ::close(side->fd);  // also leaves the epoll set
    side->fd = -1;
  }
  loop().forget(&up_);
  loop().forget(&down_);
  up_.release_resources();
  down_.release_resources();
  if (was_open && log::enabled(log::Level::Debug))
    log::debug("connection closed", {{"proxy", proxy_.runtime->name},
                                     {"reset", kind == CloseKind::Reset},
                                     {"bytes_upstream", bytes_received_[0]},
                                     {"bytes_downstream", bytes_received_[1]},
                                     {"duration_ms", std::chrono::duration_cast<Millis>(loop().now() - opened_at_).count()}});
  worker_.session_closed(proxy_, this);
}

}  // namespace faultline
