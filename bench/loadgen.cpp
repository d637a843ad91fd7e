#include "loadgen.h"

#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "net_util.h"
#include "upstreams.h"

namespace fbench {
namespace {

constexpr size_t kMessage = 64;
constexpr int64_t kOpTimeoutNs = 5'000'000'000;

void fill_message(char* msg, uint64_t seq) {
  std::memset(msg, static_cast<int>('a' + seq % 26), kMessage);
  std::memcpy(msg, &seq, sizeof seq);
}

}  // namespace

PingPongResult ping_pong(int port, double seconds, int warmup, size_t max_samples) {
  PingPongResult out;
  const int fd = connect_blocking(port);
  if (fd < 0) {
    out.error = "connect failed";
    return out;
  }
  set_nodelay(fd);
  char msg[kMessage], reply[kMessage];
  const int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
  out.rtt_ns.reserve(std::min<size_t>(max_samples, 400'000));
  for (uint64_t seq = 0;; ++seq) {
    const bool recording = seq >= static_cast<uint64_t>(warmup);
    if (recording && (now_ns() >= end || out.rtt_ns.size() >= max_samples)) break;
    fill_message(msg, seq);
    const int64_t t0 = now_ns();
    if (!write_all(fd, msg, kMessage, t0 + kOpTimeoutNs) || !read_exact(fd, reply, kMessage, t0 + kOpTimeoutNs)) {
      out.error = "echo failed or timed out after " + std::to_string(seq) + " round trips";
      break;
    }
    const int64_t t1 = now_ns();
    if (std::memcmp(msg, reply, kMessage) != 0) {
      out.error = "echo returned different bytes";
      break;
    }
    if (recording) out.rtt_ns.push_back(static_cast<double>(t1 - t0));
  }
  ::close(fd);
  return out;
}

PingPongResult paced_requests(int port, int count, double interval_ms, double timeout_s) {
  PingPongResult out;
  const int fd = connect_blocking(port);
  if (fd < 0) {
    out.error = "connect failed";
    return out;
  }
  set_nodelay(fd);
  set_nonblocking(fd);
  std::vector<int64_t> sent_at(static_cast<size_t>(count), 0);
  std::string inbox;
  char msg[kMessage];
  char buf[16 * 1024];
  const int64_t start = now_ns();
  const int64_t give_up = start + static_cast<int64_t>(timeout_s * 1e9);
  const auto interval = static_cast<int64_t>(interval_ms * 1e6);
  int64_t next_send = start;
  int sent = 0, received = 0;
  while (received < count) {
    int64_t now = now_ns();
    if (now > give_up) {
      out.error = "timed out with " + std::to_string(count - received) + " replies missing";
      break;
    }
    if (sent < count && now >= next_send) {
      fill_message(msg, static_cast<uint64_t>(sent));
      sent_at[static_cast<size_t>(sent)] = now_ns();
      if (!write_all(fd, msg, kMessage, now + kOpTimeoutNs)) {
        out.error = "write failed";
        break;
      }
      ++sent;
      next_send += interval;
      continue;
    }
    int64_t wait = sent < count ? next_send - now : 10'000'000;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, wait) / 1'000'000));
    if (r <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    const int64_t arrived = now_ns();
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      out.error = "connection closed early";
      break;
    }
    if (n < 0) continue;
    inbox.append(buf, static_cast<size_t>(n));
    while (inbox.size() >= kMessage) {
      uint64_t seq = 0;
      std::memcpy(&seq, inbox.data(), sizeof seq);
      if (seq >= static_cast<uint64_t>(sent)) {
        out.error = "reply with an unknown sequence number";
        ::close(fd);
        return out;
      }
      out.rtt_ns.push_back(static_cast<double>(arrived - sent_at[seq]));
      inbox.erase(0, kMessage);
      ++received;
    }
  }
  ::close(fd);
  return out;
}

ConnRateResult conn_rate(int port, int in_flight, double seconds, uint64_t max_conns) {
  ConnRateResult out;
  struct Slot {
    int fd = -1;
    bool connecting = false;
    int64_t started = 0;
    size_t got = 0;
    char buf[64];
  };
  std::vector<Slot> slots(static_cast<size_t>(in_flight));
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  char request[Upstreams::kOneshotSize];
  std::memset(request, 'c', sizeof request);
  const sockaddr_in addr = loopback(port);
  const int64_t start = now_ns();
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t started = 0;

  auto note_error = [&](const std::string& what) {
    ++out.errors;
    if (out.first_error.empty()) out.first_error = what;
  };
  auto finish = [&](size_t i) {
    if (slots[i].fd >= 0) ::close(slots[i].fd);
    slots[i].fd = -1;
  };
  auto launch = [&](size_t i) {
    Slot& s = slots[i];
    if (now_ns() >= end || started >= max_conns) return;
    s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      note_error(std::string("socket: ") + std::strerror(errno));
      return;
    }
    ++started;
    s.started = now_ns();
    s.got = 0;
    s.connecting = true;
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
      note_error(std::string("connect: ") + std::strerror(errno));
      finish(i);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
  };

  for (size_t i = 0; i < slots.size(); ++i) launch(i);
  epoll_event events[64];
  int64_t next_timeout_scan = start + 100'000'000;
  for (;;) {
    bool any = false;
    for (auto& s : slots) any |= s.fd >= 0;
    if (!any && (now_ns() >= end || started >= max_conns)) break;
    if (!any) {  // every slot failed to launch: try again
      for (size_t i = 0; i < slots.size(); ++i) launch(i);
      continue;
    }
    const int n = ::epoll_wait(ep, events, 64, 50);
    const int64_t now = now_ns();
    for (int e = 0; e < n; ++e) {
      const size_t i = events[e].data.u64;
      Slot& s = slots[i];
      if (s.fd < 0) continue;
      if (s.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          note_error(std::string("connect: ") + std::strerror(err));
          finish(i);
          launch(i);
          continue;
        }
        s.connecting = false;
        if (::send(s.fd, request, sizeof request, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request)) {
          note_error("short send");
          finish(i);
          launch(i);
          continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
        continue;
      }
      for (;;) {
        const ssize_t r = ::recv(s.fd, s.buf + std::min(s.got, sizeof s.buf - 1), sizeof s.buf - std::min(s.got, sizeof s.buf - 1), 0);
        if (r > 0) {
          s.got += static_cast<size_t>(r);
          continue;
        }
        if (r < 0 && errno == EAGAIN) break;
        if (r < 0 && errno == EINTR) continue;
        if (r == 0 && s.got == sizeof request && std::memcmp(s.buf, request, sizeof request) == 0) {
          ++out.completed;
          out.conn_ns.push_back(static_cast<double>(now - s.started));
        } else if (r == 0) {
          note_error("wrong or short reply (" + std::to_string(s.got) + " bytes)");
        } else {
          note_error(std::string("recv: ") + std::strerror(errno));
        }
        finish(i);
        launch(i);
        break;
      }
    }
    if (now >= next_timeout_scan) {
      next_timeout_scan = now + 100'000'000;
      for (size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].fd >= 0 && now - slots[i].started > kOpTimeoutNs) {
          note_error("connection timed out (5 s)");
          finish(i);
          launch(i);
        }
      }
      // Past the end: connections still in flight are abandoned, not counted.
      if (now >= end + kOpTimeoutNs) break;
    }
  }
  for (size_t i = 0; i < slots.size(); ++i) finish(i);
  ::close(ep);
  out.seconds = static_cast<double>(std::min(now_ns(), end) - start) / 1e9;
  if (out.seconds <= 0) out.seconds = 1e-9;
  return out;
}

namespace {

// Sends `byte` on every connection and counts those that echo it back within
// the time limit.
int verify_all(const std::vector<int>& fds, char byte, double timeout_s, std::string& error) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<char> answered(fds.size(), 0);
  int pending = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (::send(fds[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
      if (error.empty()) error = std::string("send: ") + std::strerror(errno);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    ++pending;
  }
  int ok = 0;
  const int64_t end = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  epoll_event events[512];
  while (pending > 0 && now_ns() < end) {
    const int n = ::epoll_wait(ep, events, 512, 100);
    for (int e = 0; e < n; ++e) {
      const size_t i = events[e].data.u64;
      char c = 0;
      const ssize_t r = ::recv(fds[i], &c, 1, MSG_DONTWAIT);
      if (r < 0 && errno == EAGAIN) continue;
      ::epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
      --pending;
      if (r == 1 && c == byte) {
        ++ok;
      } else if (error.empty()) {
        error = r == 0 ? "connection closed by the proxy" : (r < 0 ? std::string("recv: ") + std::strerror(errno) : "wrong byte");
      }
    }
  }
  if (pending > 0 && error.empty()) error = std::to_string(pending) + " connections did not echo in time";
  ::close(ep);
  return ok;
}

}  // namespace

ScaleResult hold_idle(int port, int count, const std::function<void()>& hold) {
  ScaleResult out;
  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(count));
  const sockaddr_in addr = loopback(port);
  const int64_t t0 = now_ns();
  const int64_t give_up = t0 + 30'000'000'000;
  constexpr int kBatch = 500;
  for (int done = 0; done < count && now_ns() < give_up; done += kBatch) {
    std::vector<pollfd> batch;
    for (int i = done; i < std::min(count, done + kBatch); ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        if (out.first_error.empty()) out.first_error = std::string("socket: ") + std::strerror(errno);
        break;
      }
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
        if (out.first_error.empty()) out.first_error = std::string("connect: ") + std::strerror(errno);
        ::close(fd);
        continue;
      }
      batch.push_back(pollfd{fd, POLLOUT, 0});
    }
    if (batch.empty()) break;
    // Wait until every socket of the batch has finished connecting.
    size_t finished = 0;
    std::vector<char> done_flag(batch.size(), 0);
    while (finished < batch.size() && now_ns() < give_up) {
      if (::poll(batch.data(), batch.size(), 100) < 0 && errno != EINTR) break;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (done_flag[i] || batch[i].revents == 0) continue;
        done_flag[i] = 1;
        ++finished;
        batch[i].events = 0;  // stop watching it
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(batch[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          fds.push_back(batch[i].fd);
        } else {
          if (out.first_error.empty()) out.first_error = std::string("connect: ") + std::strerror(err);
          ::close(batch[i].fd);
        }
      }
    }
    for (size_t i = 0; i < batch.size(); ++i)
      if (!done_flag[i]) ::close(batch[i].fd);
  }
  out.opened = static_cast<int>(fds.size());
  out.verified = verify_all(fds, 'x', 20.0, out.first_error);
  out.open_seconds = static_cast<double>(now_ns() - t0) / 1e9;
  hold();
  out.verified_after = verify_all(fds, 'y', 20.0, out.first_error);
  for (int fd : fds) ::close(fd);
  return out;
}

uint64_t bulk_send(int port, int streams, double seconds) {
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> threads;
  const int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&] {
      const int fd = connect_blocking(port);
      if (fd < 0) return;
      timeval tv{0, 200'000};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      static const std::string data(128 * 1024, 'B');
      uint64_t mine = 0;
      while (now_ns() < end) {
        const ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (w > 0) mine += static_cast<uint64_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR) break;
      }
      total += mine;
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  return total.load();
}

double read_rate(int port, double warmup_s, double seconds, std::string& error) {
  const int fd = connect_blocking(port);
  if (fd < 0) {
    error = "connect failed";
    return 0;
  }
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static char buf[256 * 1024];
  const int64_t start = now_ns();
  const int64_t measure_from = start + static_cast<int64_t>(warmup_s * 1e9);
  const int64_t end = measure_from + static_cast<int64_t>(seconds * 1e9);
  uint64_t bytes = 0;
  int64_t first = 0, last = 0;
  for (;;) {
    const int64_t now = now_ns();
    if (now >= end) break;
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    const int64_t at = now_ns();
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      error = "source connection ended early";
      break;
    }
    if (r < 0) continue;
    if (at < measure_from) continue;
    if (first == 0) {
      first = at;  // bytes of this read arrived before `first`: not counted
      continue;
    }
    bytes += static_cast<uint64_t>(r);
    last = at;
  }
  ::close(fd);
  if (last <= first) {
    if (error.empty()) error = "no data during the measured window";
    return 0;
  }
  return static_cast<double>(bytes) / (static_cast<double>(last - first) / 1e9);
}

}  // namespace fbench
