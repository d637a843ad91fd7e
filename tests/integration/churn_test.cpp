// Control-plane churn on busy connections: toxics of every type added,
// updated and removed, the proxy disabled and enabled, while clients stream
// data through it and check every byte. A fixed script (seeded), so a
// failure reproduces. This is the churn that once made a worker resume a
// destroyed connection (timeout toxics plus toggles); under ASan any such
// use-after-free fails the run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using namespace std::chrono_literals;

struct StreamStats {
  std::atomic<long> connections{0};
  std::atomic<long> bytes_verified{0};
  std::atomic<long> corrupt{0};
};

// One client: streams pseudo-random bytes through the proxy and checks that
// what comes back is exactly a prefix of what it sent. The proxy may end the
// connection at any time (that is what the toxics do); then it starts anew.
void stream_client(int port, unsigned seed, const std::atomic<bool>& stop, StreamStats& stats) {
  std::mt19937 rng(seed);
  while (!stop.load()) {
    Socket s(connect_tcp(port, "127.0.0.1", 500ms));
    if (!s.valid()) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    stats.connections++;
    std::string sent;
    size_t verified = 0;
    bool open = true;
    while (open && !stop.load()) {
      if (sent.size() - verified < 64 * 1024) {
        std::string chunk = random_bytes(1 + rng() % 8192, rng());
        if (::send(s.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) <= 0) break;
        sent += chunk;  // a partial send is fine: only a prefix of `sent` must come back
      }
      pollfd p{s.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[16384];
      const ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
      if (n <= 0) break;
      if (verified + static_cast<size_t>(n) > sent.size() ||
          sent.compare(verified, static_cast<size_t>(n), buf, static_cast<size_t>(n)) != 0) {
        stats.corrupt++;
        open = false;
      }
      verified += static_cast<size_t>(n);
      stats.bytes_verified += n;
    }
  }
}

std::string random_toxic(std::mt19937& rng) {
  static const char* kBodies[] = {
      R"("type":"timeout","attributes":{"timeout":%d})",
      R"("type":"reset_peer","attributes":{"timeout":%d})",
      R"("type":"latency","attributes":{"latency":%d,"jitter":5})",
      R"("type":"bandwidth","attributes":{"rate":%d})",
      R"("type":"slicer","attributes":{"average_size":%d,"size_variation":7,"delay":50})",
      R"("type":"limit_data","attributes":{"bytes":%d})",
      R"("type":"slow_close","attributes":{"delay":%d})",
      R"("type":"noop")",
  };
  char body[256];
  std::snprintf(body, sizeof body, kBodies[rng() % 8], static_cast<int>(rng() % 60));
  return body;
}

TEST(Churn, ToxicsAndTogglesOnBusyConnectionsNeverCrashOrCorrupt) {
  TestUpstream upstream;
  ServerProcess server(ServerOptions{{"-seed", "42", "-quiet"}});
  const int port = server.create_proxy("busy", upstream.port());
  std::atomic<bool> stop{false};
  StreamStats stats;
  std::vector<std::thread> clients;
  for (unsigned i = 0; i < 24; ++i) clients.emplace_back(stream_client, port, 1000 + i, std::cref(stop), std::ref(stats));

  std::mt19937 rng(20261201);
  const char* kNames[] = {"t0", "t1", "t2", "t3"};
  const char* kStreams[] = {"upstream", "downstream"};
  HttpClient api = server.api();
  const auto deadline = std::chrono::steady_clock::now() + 6s;
  int steps = 0;
  std::string failure;
  try {
  while (std::chrono::steady_clock::now() < deadline && steps < 3000) {
    ++steps;
    const std::string name = kNames[rng() % 4];
    switch (rng() % 6) {
      case 0:
      case 1: {
        const std::string body = "{\"name\":\"" + name + "\",\"stream\":\"" + kStreams[rng() % 2] + "\"," +
                                 random_toxic(rng) + ",\"toxicity\":" + (rng() % 3 ? "1" : "0.5") + "}";
        api.post("/proxies/busy/toxics", body);  // 409 when the name is taken: fine
        break;
      }
      case 2: api.post("/proxies/busy/toxics/" + name, "{\"toxicity\":" + std::string(rng() % 2 ? "0" : "1") + "}"); break;
      case 3: api.del("/proxies/busy/toxics/" + name); break;
      case 4: api.post("/proxies/busy", rng() % 2 ? R"({"enabled":false})" : R"({"enabled":true})"); break;
      case 5: std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 10)); break;
    }
    if (!server.running()) break;
  }
  } catch (const std::exception& e) {
    failure = e.what();  // the API stopped answering: the server died
  }
  const bool survived = server.running() && failure.empty();
  if (survived) api.post("/reset");
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : clients) t.join();

  ASSERT_TRUE(survived) << "the server died after " << steps << " steps (" << failure << ")\n" << server.output();
  EXPECT_EQ(api.get("/version").status, 200);
  EXPECT_EQ(stats.corrupt.load(), 0) << "a client got bytes that are not a prefix of what it sent";
  EXPECT_GT(stats.connections.load(), 24) << "the churn should have ended and replaced connections";
  EXPECT_GT(stats.bytes_verified.load(), 1'000'000) << "data should have flowed between the faults";
  EXPECT_GT(steps, 300);
}

}  // namespace
}  // namespace faultline::test
