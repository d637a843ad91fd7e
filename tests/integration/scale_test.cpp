// What performance work tends to break: many connections at once, running
// out of descriptors, peers that stop reading, connections closed while
// data is in flight.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using Clock = std::chrono::steady_clock;

// An echo upstream on one epoll thread, for thousands of connections
// (TestUpstream spends a thread on each).
class EpollEcho {
 public:
  EpollEcho() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 8192);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~EpollEcho() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  int port() const { return port_; }

 private:
  void run() {
    const int ep = ::epoll_create1(0);
    epoll_event ev{EPOLLIN, {.fd = listen_fd_}};
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &ev);
    epoll_event events[256];
    char buf[4096];
    while (!stop_) {
      const int n = ::epoll_wait(ep, events, 256, 50);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd_) {
          int c;
          while ((c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
            epoll_event cev{EPOLLIN, {.fd = c}};
            ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
            fds_.push_back(c);
          }
          continue;
        }
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
        if (got > 0) ::send(fd, buf, static_cast<size_t>(got), MSG_NOSIGNAL);
        else if (got == 0) ::shutdown(fd, SHUT_WR), ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      }
    }
    ::close(ep);
  }
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> fds_;
  std::thread thread_;
};

void raise_own_fd_limit() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
}

}  // namespace

TEST(Scale, ThousandsOfConnectionsOpenedAtOnceAllWork) {
  raise_own_fd_limit();
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  // The test holds a client and an upstream socket per connection; the
  // server holds two. Stay well inside the limit of both.
  const int count = std::min<int>(4000, static_cast<int>(r.rlim_cur / 2) - 200);
  ASSERT_GT(count, 500) << "descriptor limit too low for this test";
  EpollEcho echo;
  ServerProcess server;
  const int port = server.create_proxy("many", echo.port());
  std::vector<Socket> clients;
  clients.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    clients.emplace_back(connect_tcp(port));
    ASSERT_TRUE(clients.back().valid()) << "connection " << i << " failed";
  }
  for (int i = 0; i < count; ++i) clients[static_cast<size_t>(i)].send(std::to_string(i % 10));
  for (int i = 0; i < count; ++i)
    ASSERT_EQ(recv_exact(clients[static_cast<size_t>(i)].fd(), 1).data, std::to_string(i % 10)) << "connection " << i;
  // And the API still answers at once.
  EXPECT_EQ(server.api().get("/proxies/many").status, 200);
}

TEST(Scale, RunningOutOfDescriptorsPausesAcceptsAndRecovers) {
  TestUpstream echo;
  ServerProcess server(ServerOptions{.max_open_files = 64});
  const int port = server.create_proxy("tight", echo.port());
  // Each proxied connection costs the server two descriptors: ~25 fit.
  std::vector<Socket> clients;
  for (int i = 0; i < 40; ++i) clients.emplace_back(connect_tcp(port));
  for (auto& c : clients) c.send("x");
  // Which clients got their echo within 800 ms: not necessarily the first
  // ones, since two workers accept concurrently. All of them are watched at
  // once: reading them one by one against a shared deadline left the later
  // ones a millisecond, which missed echoes already there whenever the first
  // clients were among those still waiting.
  const auto deadline = Clock::now() + std::chrono::milliseconds(800);
  std::vector<bool> was_served(clients.size(), false);
  int served = 0;
  while (Clock::now() < deadline) {
    std::vector<pollfd> waiting;
    std::vector<size_t> index;
    for (size_t i = 0; i < clients.size(); ++i)
      if (!was_served[i]) waiting.push_back({clients[i].fd(), POLLIN, 0}), index.push_back(i);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (waiting.empty() || ::poll(waiting.data(), waiting.size(), static_cast<int>(std::max<int64_t>(1, left))) <= 0) continue;
    for (size_t k = 0; k < waiting.size(); ++k) {
      if (!(waiting[k].revents & POLLIN)) continue;
      char c = 0;
      if (::recv(waiting[k].fd, &c, 1, 0) == 1 && c == 'x') was_served[index[k]] = true, ++served;
    }
  }
  EXPECT_GT(served, 5);
  EXPECT_LT(served, 40) << "the limit should have been hit";
  // Free the descriptors: the waiting connections are taken up and served.
  const auto waiting = clients.size() - static_cast<size_t>(served);
  for (size_t i = 0; i < clients.size(); ++i)
    if (was_served[i]) clients[i] = Socket();
  int recovered = 0;
  for (size_t i = 0; i < clients.size(); ++i)
    if (!was_served[i] && recv_exact(clients[i].fd(), 1, std::chrono::seconds(5)).data == "x") ++recovered;
  // As many as were served at first fit again, give or take one per worker
  // (each can be caught between an accept and its upstream socket as the
  // descriptors come back; seen once, 18 of 20, in a loaded ASan run);
  // -fast-path bpf holds a few descriptors of its own, so the number is
  // taken from this run, not fixed.
  EXPECT_GE(recovered, static_cast<int>(std::min<size_t>(waiting, static_cast<size_t>(served))) - 2)
      << "connections waiting in the backlog were not taken up; served first: " << served << "\nserver log:\n"
      << server.output();
  // With the recovered connections open the server may be at its limit
  // again (and rightly unable to accept the API's client); once they go, the
  // API must answer.
  clients.clear();
  EXPECT_EQ(server.api().get("/version").status, 200);
  const std::string log = server.output();
  const auto first = log.find("out of file descriptors");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(log.find("out of file descriptors", first + 1), std::string::npos) << "logged once";
}

TEST(Scale, APeerThatStopsReadingOnlyStallsItsOwnConnection) {
  TestUpstream source(TestUpstream::send_then_close(random_bytes(32 * 1024 * 1024, 5)));
  TestUpstream echo;
  ServerProcess server;
  const int stalled_port = server.create_proxy("stalled", source.port());
  const int echo_port = server.create_proxy("echo", echo.port());
  Socket stalled(connect_tcp(stalled_port));  // never reads: buffers fill, the proxy stops reading the source
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Socket other(connect_tcp(echo_port));
  const auto start = Clock::now();
  other.send("still fast");
  EXPECT_EQ(recv_exact(other.fd(), 10).data, "still fast");
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(500));
  // The stalled reader finally reads: everything arrives intact.
  ReadResult all = recv_all(stalled.fd(), std::chrono::seconds(30));
  EXPECT_EQ(all.end, ReadEnd::Eof);
  EXPECT_TRUE(all.data == random_bytes(32 * 1024 * 1024, 5));
}

TEST(Scale, ConnectionsClosedMidTransferLeaveTheServerHealthy) {
  TestUpstream source(TestUpstream::send_then_close(random_bytes(8 * 1024 * 1024, 6)));
  ServerProcess server(ServerOptions{{"-proxy-metrics"}});
  const int port = server.create_proxy("cut", source.port());
  for (int i = 0; i < 50; ++i) {
    Socket c(connect_tcp(port));
    recv_exact(c.fd(), static_cast<size_t>(1000 * (i + 1)), std::chrono::seconds(2));  // then drop it mid-stream
  }
  // Every connection is gone from the server's books, and it still serves.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  std::string body;
  while (Clock::now() < deadline) {
    body = server.api().get("/faultline/stats").body;
    if (body.find("\"connections\":0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(body.find("\"connections\":0"), std::string::npos) << body;
  Socket c(connect_tcp(port));
  ReadResult r = recv_all(c.fd(), std::chrono::seconds(10));
  EXPECT_EQ(r.data.size(), 8u * 1024 * 1024);
}

TEST(Scale, WritingToAPeerThatHasGoneNeverKillsTheServer) {
  // The upstream closes at once while the client keeps sending: the proxy's
  // next splice to it fails with EPIPE, which must not raise SIGPIPE.
  TestUpstream closer([](int) {});
  ServerProcess server;
  const int port = server.create_proxy("gone", closer.port());
  const std::string chunk(256 * 1024, 'z');
  for (int round = 0; round < 5; ++round) {
    Socket c(connect_tcp(port));
    try {
      for (int i = 0; i < 32; ++i) c.send(chunk);
    } catch (const std::exception&) {
      // the proxy closed the client side: expected
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(server.running()) << server.output();
  EXPECT_EQ(server.api().get("/version").status, 200);
}

}  // namespace faultline::test
