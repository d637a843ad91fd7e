#include "load/LoadWorker.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

namespace faultline::load {
namespace {

constexpr auto kErrorPause = std::chrono::milliseconds(10);  // closed loop: a failed client waits this long
constexpr size_t kReadChunk = 64 * 1024;

ErrorClass classify(int error) {
  switch (error) {
    case ECONNREFUSED: return ErrorClass::Refused;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return ErrorClass::Reset;
    case ETIMEDOUT: return ErrorClass::Timeout;
    default: return ErrorClass::Other;
  }
}

int64_t micros(Nanos d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

}  // namespace

std::vector<ResolvedEndpoint> resolve_endpoints(const TargetSpec& target) {
  std::vector<ResolvedEndpoint> out;
  for (const auto& e : target.endpoints) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(e.host.c_str(), std::to_string(e.port).c_str(), &hints, &found);
    if (rc != 0 || !found)
      throw TargetError("cannot resolve \"" + e.host + "\" of target " + target.url + ": " + ::gai_strerror(rc));
    ResolvedEndpoint r;
    std::memcpy(&r.address, found->ai_addr, found->ai_addrlen);
    r.length = found->ai_addrlen;
    ::freeaddrinfo(found);
    out.push_back(r);
  }
  return out;
}

// One socket of a client: to one of the target's servers.
struct LoadWorker::Connection final : IoHandler {
  Client* client = nullptr;
  size_t endpoint = 0;
  int fd = -1;
  bool connected = false;
  bool want_write = false;
  std::string in;

  void on_io(uint32_t events) override;
  void close_now(EventLoop& loop) {
    if (fd < 0) return;
    loop.unwatch(fd);
    ::close(fd);
    fd = -1;
    connected = false;
    want_write = false;
    in.clear();
  }
};

// A simulated client: a connection per server, and up to `pipeline`
// requests in flight on it, answered in the order they were sent.
struct LoadWorker::Client {
  // A request sent (or being sent) and not answered yet; its codec knows
  // what the reply must be.
  struct InFlight {
    TimePoint due;
    Codec* codec = nullptr;
  };

  LoadWorker* worker = nullptr;
  std::vector<std::unique_ptr<Codec>> codecs;  // one per pipeline slot
  std::vector<Codec*> free_codecs;
  std::deque<InFlight> in_flight;
  std::vector<Connection> connections;
  size_t home = 0;         // the server this client talks to
  std::string out;         // requests not yet written whole
  size_t written = 0;
  size_t paused = 0;       // closed loop: requests to send once the pause after an error is over
  Timer deadline, pause;

  EventLoop& loop() { return worker->loop_; }
  bool busy() const { return !in_flight.empty(); }

  // Sends `planned` (open loop), or a request of its own for its server.
  void start(TimePoint due_at, std::string* planned = nullptr) {
    Codec* codec = free_codecs.back();
    free_codecs.pop_back();
    std::string request;
    if (planned) {
      request.swap(*planned);
      codec->expect(request);
    } else {
      // Draw until the key lives on this client's server (a few tries).
      for (int tries = 0; codec->next_request(request) != home && tries < 1000; ++tries) {
      }
    }
    in_flight.push_back({due_at, codec});
    if (in_flight.size() == 1) rearm_deadline();
    if (written == out.size()) {
      out.clear();
      written = 0;
    }
    out += request;
    Connection& c = connections[home];
    if (c.fd < 0 && !open(c)) return;
    if (c.connected) send_more(c);
  }

  void rearm_deadline() {
    loop().timers().cancel(deadline);
    if (busy()) loop().timers().arm(deadline, in_flight.front().due + worker->plan_.timeout);
  }

  bool open(Connection& c) {
    const ResolvedEndpoint& to = worker->endpoints_[c.endpoint];
    c.fd = ::socket(to.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      const int error = errno;
      fail(ErrorClass::Other, std::string("socket: ") + std::strerror(error));
      return false;
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&to.address), to.length);
    if (rc != 0 && errno != EINPROGRESS) {
      const int error = errno;
      ::close(c.fd);
      c.fd = -1;
      fail(classify(error), std::string("connect: ") + std::strerror(error));
      return false;
    }
    c.connected = rc == 0;
    c.want_write = !c.connected;
    loop().watch(c.fd, EPOLLIN | EPOLLRDHUP | (c.connected ? 0u : uint32_t{EPOLLOUT}), &c);
    return true;
  }

  void send_more(Connection& c) {
    while (written < out.size()) {
      const ssize_t n = ::send(c.fd, out.data() + written, out.size() - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write) {
          c.want_write = true;
          loop().rewatch(c.fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT, &c);
        }
        return;
      }
      const int error = errno;
      fail(classify(error), std::string("send: ") + std::strerror(error));
      return;
    }
    if (c.want_write) {
      c.want_write = false;
      loop().rewatch(c.fd, EPOLLIN | EPOLLRDHUP, &c);
    }
  }

  // The oldest request got its reply; the caller hands the slot back.
  void answered(TimePoint now) {
    const InFlight done = in_flight.front();
    in_flight.pop_front();
    free_codecs.push_back(done.codec);
    rearm_deadline();
    worker->record_ok(done.due, now);
  }

  // Every request in flight fails: the connection is closed, since whatever
  // arrives on it later would be out of step.
  void fail(ErrorClass what, const std::string& message) {
    const TimePoint now = loop().now();
    loop().timers().cancel(deadline);
    connections[home].close_now(loop());
    out.clear();
    written = 0;
    const size_t failed = in_flight.size();
    for (const InFlight& f : in_flight) {
      free_codecs.push_back(f.codec);
      worker->record_error(f.due, now, what, message);
    }
    in_flight.clear();
    if (failed) worker->client_idle(*this, true, failed);
  }
};

void LoadWorker::Connection::on_io(uint32_t events) {
  if (fd < 0) return;  // closed earlier in this batch of events
  EventLoop& loop = client->loop();
  const bool is_active = client->busy() && &client->connections[client->home] == this;
  if (!connected) {
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      if (is_active) client->fail(classify(error), std::string("connect: ") + std::strerror(error));
      else close_now(loop);
      return;
    }
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return;  // still connecting
    connected = true;
    if (is_active) client->send_more(*this);
    else close_now(loop);
    return;
  }
  if ((events & EPOLLOUT) && is_active && client->written < client->out.size()) client->send_more(*this);
  if (fd < 0 || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  bool ended = false;
  int error = 0;
  // Into one buffer per thread, then only what came is appended: growing
  // `in` by a whole chunk would clear 64 KiB for every reply.
  static thread_local std::string scratch(kReadChunk, '\0');
  for (;;) {
    const ssize_t n = ::recv(fd, scratch.data(), kReadChunk, 0);
    if (n > 0) in.append(scratch.data(), static_cast<size_t>(n));
    if (n > 0) {
      if (static_cast<size_t>(n) < kReadChunk) break;
      continue;
    }
    if (n == 0) ended = true;
    else if (errno == EINTR) continue;
    else if (errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
    break;
  }
  if (!is_active) {
    close_now(loop);  // an idle connection has nothing to say: it was closed or broke
    return;
  }
  // Every reply that is whole, oldest request first (pipelined replies may
  // come in one read). Slots are handed back only at the end, so that a
  // closed loop does not send on a connection about to be closed.
  const TimePoint now = loop.now();
  size_t answered = 0;
  bool server_closes = false;
  while (!in.empty() && client->busy()) {
    ReplyCheck check = client->in_flight.front().codec->check_reply(in);
    if (check.state == ReplyState::Mismatch) {
      client->fail(ErrorClass::Mismatch, check.problem);
      if (answered) client->worker->client_idle(*client, false, answered);
      return;
    }
    if (check.state == ReplyState::Incomplete) break;
    in.erase(0, check.consumed);
    client->answered(now);
    ++answered;
    if (check.close_after) {
      server_closes = true;
      break;
    }
  }
  if (!client->busy()) {
    if (server_closes || ended || error != 0 || client->worker->plan_.new_connections) close_now(loop);
  } else if (server_closes) {
    client->fail(ErrorClass::Closed, "the server closed the connection with requests pipelined behind its reply");
  } else if (error) {
    client->fail(classify(error), std::string("recv: ") + std::strerror(error));
  } else if (ended) {
    client->fail(ErrorClass::Closed, in.empty() ? "closed before a reply" : "closed in the middle of a reply");
  }
  if (answered) client->worker->client_idle(*client, false, answered);
}

LoadWorker::LoadWorker(WorkerPlan plan, std::vector<ResolvedEndpoint> endpoints, IntervalSink& sink)
    : plan_(std::move(plan)), endpoints_(std::move(endpoints)), sink_(sink) {
  const size_t servers = endpoints_.size();
  idle_.resize(servers);
  due_.resize(servers);
  planner_ = make_codec(plan_.target, mix(plan_.seed, 0xFFFF));
  for (size_t i = 0; i < std::max(plan_.clients, servers); ++i) {
    auto c = std::make_unique<Client>();
    c->worker = this;
    c->home = i % servers;
    for (size_t slot = 0; slot < plan_.pipeline; ++slot) {
      c->codecs.push_back(make_codec(plan_.target, mix(plan_.seed, i + slot * 1'000'003)));
      c->free_codecs.push_back(c->codecs.back().get());
    }
    c->connections.resize(endpoints_.size());
    for (size_t e = 0; e < endpoints_.size(); ++e) {
      c->connections[e].client = c.get();
      c->connections[e].endpoint = e;
    }
    Client* raw = c.get();
    c->deadline.set_callback([raw] { raw->fail(ErrorClass::Timeout, "no reply within the timeout"); });
    c->pause.set_callback([this, raw] {
      const size_t waiting = std::exchange(raw->paused, 0);
      if (!issuing()) return maybe_finish();
      for (size_t k = 0; k < waiting && !raw->free_codecs.empty(); ++k) raw->start(loop_.now());
    });
    clients_.push_back(std::move(c));
  }
  current_.target = plan_.target_index;
  pacer_.set_callback([this] { pace(); });
  ticker_.set_callback([this] { tick(); });
  ender_.set_callback([this] {
    finishing_ = true;
    maybe_finish();
  });
  drain_limit_.set_callback([this] { loop_.stop(); });
  dispatcher_.set_callback([this] { dispatch(); });
}

LoadWorker::~LoadWorker() {
  for (auto& c : clients_)
    for (auto& conn : c->connections) conn.close_now(loop_);
}

void LoadWorker::finish_now() {
  finish_requested_ = true;
  loop_.post([this] {
    finishing_ = true;
    maybe_finish();
  });
}

int64_t LoadWorker::slice_of(TimePoint t) const { return std::max<int64_t>(0, (t - plan_.start) / kSlice); }

void LoadWorker::run() {
  loop_.post([this] { begin(); });
  loop_.run();
  // The slice the run ended in, and whatever was left unanswered.
  for (auto& c : clients_)
    for (const auto& f : c->in_flight) record_error(f.due, loop_.now(), ErrorClass::Timeout, "no reply within the timeout");
  flush_until(slice_of(loop_.now()) + 1);
}

void LoadWorker::begin() {
  current_.index = 0;
  loop_.timers().arm(ticker_, plan_.start + kSlice);
  loop_.timers().arm(ender_, plan_.end);
  if (finish_requested_) finishing_ = true;
  if (plan_.rate > 0) {
    // A client is listed once per request it may have in flight.
    for (auto& c : clients_)
      for (size_t slot = 0; slot < plan_.pipeline; ++slot) idle_[c->home].push_back(c.get());
  } else {
    pacer_.set_callback([this] {  // closed loop: every client starts at time zero
      if (!issuing()) return maybe_finish();
      for (auto& c : clients_)
        for (size_t slot = 0; slot < plan_.pipeline && !c->free_codecs.empty(); ++slot) c->start(loop_.now());
    });
  }
  loop_.timers().arm(pacer_, plan_.start + plan_.rate_offset);
  maybe_finish();
}

void LoadWorker::pace() {
  // Every request whose time has come, even if the loop woke late: the
  // schedule is fixed from the start, so the rate holds exactly.
  const TimePoint now = loop_.now();
  const double per_request_ns = 1e9 / plan_.rate;
  for (;;) {
    const TimePoint at = plan_.start + plan_.rate_offset +
                         Nanos(static_cast<int64_t>(std::llround(static_cast<double>(paced_) * per_request_ns)));
    if (at >= plan_.end || finishing_) break;
    if (at > now) {
      loop_.timers().arm(pacer_, at);
      break;
    }
    Due d{at, {}};
    const size_t server = planner_->next_request(d.request);
    due_[server].push_back(std::move(d));
    ++paced_;
  }
  dispatch();
}

void LoadWorker::dispatch() {
  const TimePoint now = loop_.now();
  for (size_t server = 0; server < due_.size(); ++server) {
    auto& due = due_[server];
    auto& idle = idle_[server];
    // Requests that waited out their timeout fail, whether or not a client is free.
    while (!due.empty() && now >= due.front().at + plan_.timeout) {
      record_error(due.front().at, now, ErrorClass::Timeout, "no client was free before the timeout");
      due.pop_front();
    }
    while (!due.empty() && !idle.empty()) {
      Due d = std::move(due.front());
      due.pop_front();
      Client* c = idle.back();
      idle.pop_back();
      c->start(d.at, &d.request);
    }
  }
  maybe_finish();
}

void LoadWorker::client_idle(Client& c, bool after_error, size_t slots) {
  if (plan_.rate > 0) {
    for (size_t k = 0; k < slots; ++k) idle_[c.home].push_back(&c);
    // Not from inside a client's own call chain (a refused connect fails at
    // once): a timer due now runs after this round of events.
    if (!dispatcher_.armed()) loop_.timers().arm(dispatcher_, loop_.now());
    return;
  }
  if (!issuing()) {
    maybe_finish();
    return;
  }
  if (after_error) {
    c.paused += slots;
    if (!c.pause.armed()) loop_.timers().arm(c.pause, loop_.now() + kErrorPause);
    return;
  }
  for (size_t k = 0; k < slots && !c.free_codecs.empty(); ++k) c.start(loop_.now());
}

void LoadWorker::maybe_finish() {
  if (!finishing_) return;
  // Requests due before the end still go out (open loop) and are waited for.
  const bool all_idle = std::none_of(clients_.begin(), clients_.end(), [](const auto& c) { return c->busy(); });
  const bool none_due = std::all_of(due_.begin(), due_.end(), [](const auto& d) { return d.empty(); });
  if (all_idle && none_due) {
    loop_.stop();
    return;
  }
  if (!drain_limit_.armed()) loop_.timers().arm(drain_limit_, loop_.now() + plan_.timeout + std::chrono::milliseconds(200));
}

void LoadWorker::record_ok(TimePoint due, TimePoint now) {
  const int64_t us = std::max<int64_t>(1, micros(now - due));
  flush_until(slice_of(now));
  ++current_.ok;
  current_.latency.record(us);
  if (due >= plan_.measure_from) {
    ++totals_.ok;
    totals_.latency.record(us);
  }
}

void LoadWorker::record_error(TimePoint due, TimePoint now, ErrorClass what, const std::string& message) {
  flush_until(slice_of(now));
  const auto i = static_cast<size_t>(what);
  ++current_.errors[i];
  if (due >= plan_.measure_from) {
    ++totals_.errors[i];
    if (totals_.example[i].empty()) totals_.example[i] = message;
  }
}

void LoadWorker::tick() {
  const TimePoint now = loop_.now();
  if (plan_.rate > 0) dispatch();  // queued requests past their timeout become errors
  flush_until(slice_of(now));
  loop_.timers().arm(ticker_, plan_.start + (slice_of(now) + 1) * kSlice);
}

void LoadWorker::flush_until(int64_t slice) {
  // Hands over every slice before `slice`; the one in progress stays.
  while (current_.index < slice) {
    const TimePoint end = plan_.start + (current_.index + 1) * kSlice;
    int64_t oldest = 0;
    for (const auto& c : clients_)
      if (c->busy()) oldest = std::max(oldest, micros(end - c->in_flight.front().due));
    for (const auto& due : due_)
      if (!due.empty()) oldest = std::max(oldest, micros(end - due.front().at));
    current_.oldest_pending_us = oldest;
    IntervalRecord next;
    next.index = current_.index + 1;
    next.target = plan_.target_index;
    sink_.deliver(std::move(current_));
    current_ = std::move(next);
  }
}

}  // namespace faultline::load
