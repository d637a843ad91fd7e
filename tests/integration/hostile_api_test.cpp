// Hostile API clients and inputs: recorded requests that the HTTP parser
// refuses (each once killed the server), numbers that overflow, extreme
// toxic attributes, over-long names, slow-loris clients, more connections
// than the limit, a pipelined flood, huge headers and bodies. The API must
// answer the bad client with an error (or drop it) and keep serving everyone
// else promptly, with bounded memory.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "HttpClient.h"
#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

#ifndef FAULTLINE_SOURCE_DIR
#error "FAULTLINE_SOURCE_DIR must point at the repository root"
#endif

namespace faultline::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

// Resident memory of a process, in MiB.
double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

// The time one GET /version takes, in ms (a large number when it fails).
double version_ms(const ServerProcess& server) {
  const auto start = Clock::now();
  const HttpResponse r = server.api().get("/version");
  return r.status == 200 ? ms_since(start) : 1e9;
}

TEST(HostileApi, RecordedRequestsThatTheParserRefusesNeverKillTheServer) {
  ServerProcess server;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(FAULTLINE_SOURCE_DIR) / "tests/data/hostile-http")) {
    ++files;
    const std::string reply = server.api().raw(read_file(entry.path()), 300);
    SCOPED_TRACE(entry.path().filename().string());
    EXPECT_TRUE(reply.empty() || reply.rfind("HTTP/1.1 ", 0) == 0) << reply.substr(0, 200);
    ASSERT_TRUE(server.running()) << server.output();
    EXPECT_EQ(server.api().get("/version").status, 200);
  }
  EXPECT_GE(files, 15);
}

TEST(HostileApi, ClientsThatVanishInTheMiddleOfARequestAreForgotten) {
  ServerProcess server;
  const std::string partial[] = {"GET /proxies HTTP/1.1\r\nHost: x\r\nUser-Ag", "POST /proxies HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"na",
                                 "POST /proxies HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"na"};
  for (int i = 0; i < 60; ++i) {
    Socket s(connect_tcp(server.api_port()));
    ASSERT_TRUE(s.valid());
    s.send(partial[i % 3]);
    if (i % 2) {  // half of them reset instead of closing
      const linger l{1, 0};
      ::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  }
  ASSERT_TRUE(server.running()) << server.output();
  EXPECT_EQ(server.api().get("/version").status, 200);
}

TEST(HostileApi, NumbersThatOverflowAreTheClientsMistake) {
  TestUpstream upstream;
  ServerProcess server;
  server.create_proxy("p", upstream.port());
  const std::string huge_integer(400, '9');
  for (const std::string& body : {std::string(R"({"type":"latency","attributes":{"latency":1e400}})"),
                                  R"({"type":"latency","attributes":{"latency":)" + huge_integer + "}}",
                                  std::string(R"({"type":"latency","toxicity":1e400})"),
                                  std::string(R"({"type":"latency","ignored":-1e999})")}) {
    const HttpResponse r = server.api().post("/proxies/p/toxics", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_NE(r.body.find("bad request body"), std::string::npos) << r.body;
  }
  const HttpResponse populate = server.api().post("/populate", R"([{"name":"q","listen":"127.0.0.1:0","upstream":"x:1","n":1e400}])");
  EXPECT_EQ(populate.status, 400) << populate.body;
  EXPECT_EQ(server.api().get("/proxies/p/toxics").body, "[]") << "nothing was half applied";
}

TEST(HostileApi, AttributesBeyondWhatTheArithmeticSurvivesAreRefusedWithTheirRange) {
  TestUpstream upstream;
  ServerProcess server;
  server.create_proxy("p", upstream.port());
  struct Case {
    std::string body, message;
  };
  const Case cases[] = {
      {R"({"type":"latency","attributes":{"latency":1,"jitter":4611686018427387904}})",
       "invalid value for latency attribute jitter: 4611686018427387904 (allowed: -31536000000 to 31536000000 ms; negative means none)"},
      {R"({"type":"bandwidth","attributes":{"rate":4611686018427387904}})",
       "invalid value for bandwidth attribute rate: 4611686018427387904 (allowed: 0 to 100000000 KB/s)"},
      {R"({"type":"latency","attributes":{"latency":-9223372036854775808}})",
       "invalid value for latency attribute latency: -9223372036854775808 (allowed: -31536000000 to 31536000000 ms; negative means none)"},
      {R"({"type":"slicer","attributes":{"average_size":10,"delay":9223372036854775807}})",
       "invalid value for slicer attribute delay: 9223372036854775807 (allowed: 0 to 31536000000000 us)"},
      {R"({"type":"timeout","attributes":{"timeout":31536000001}})",
       "invalid value for timeout attribute timeout: 31536000001 (allowed: -31536000000 to 31536000000 ms; negative means none)"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = server.api().post("/proxies/p/toxics", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(r.body, "{\"error\":\"" + c.message + "\",\"status\":400}\n");
  }
  // The largest values are accepted and work: data flows at the top rate,
  // and a year of jitter holds data until the toxic goes, then releases it.
  EXPECT_EQ(server.api().post("/proxies/p/toxics", R"({"name":"fast","type":"bandwidth","attributes":{"rate":100000000}})").status, 200);
  EXPECT_EQ(server.api().post("/proxies/p/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":31536000000,"jitter":31536000000}})").status, 200);
  const HttpResponse proxy = server.api().get("/proxies/p");
  const int port = std::stoi(proxy.body.substr(proxy.body.find("127.0.0.1:") + 10));
  Socket s(connect_tcp(port));
  s.send("held for a year");
  EXPECT_EQ(recv_exact(s.fd(), 15, 300ms).data, "") << "the latency toxic holds the data";
  EXPECT_EQ(server.api().del("/proxies/p/toxics/slow").status, 204);
  EXPECT_EQ(recv_exact(s.fd(), 15, 3s).data, "held for a year");
  const std::string big = random_bytes(4 * 1024 * 1024);
  std::thread writer([&] { s.send(big); });
  EXPECT_EQ(recv_exact(s.fd(), big.size(), 10s).data == big, true) << "4 MiB through a 100 GB/s bandwidth toxic";
  writer.join();
  EXPECT_TRUE(server.running());
}

TEST(HostileApi, NamesLongerThanTheLimitAreRefusedSoEveryProxyStaysAddressable) {
  TestUpstream upstream;
  ServerProcess server;
  const std::string too_long(1001, 'n'), longest(1000, 'm');
  HttpResponse r = server.api().post("/proxies", R"({"name":")" + too_long + R"(","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("proxy name is 1001 bytes long: at most 1000 bytes are allowed"), std::string::npos) << r.body;
  EXPECT_EQ(server.api().post("/proxies", R"({"name":")" + longest + R"(","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})").status, 201);
  EXPECT_EQ(server.api().get("/proxies/" + longest).status, 200);
  r = server.api().post("/proxies/" + longest + "/toxics", R"({"type":"noop","name":")" + too_long + "\"}");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("toxic name is 1001 bytes long"), std::string::npos) << r.body;
}

TEST(HostileApi, HugeHeadersAndBodiesGetTheirStatusAndMemoryStaysBounded) {
  ServerProcess server(ServerOptions{{"-api-body-limit", "1048576"}});
  const std::string big_header = "GET /version HTTP/1.1\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(server.api().raw(big_header, 500).substr(0, 12), "HTTP/1.1 431");
  const std::string big_body = "POST /proxies HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n" + std::string(2'000'000, ' ');
  EXPECT_EQ(server.api().raw(big_body, 500).substr(0, 12), "HTTP/1.1 413");
  // 100 clients each holding 60 KB of unfinished headers.
  const double before = rss_mib(server.pid());
  std::vector<Socket> holders;
  for (int i = 0; i < 100; ++i) {
    holders.emplace_back(connect_tcp(server.api_port()));
    holders.back().send("GET /version HTTP/1.1\r\nX-Pad: " + std::string(60 * 1024, 'p'));
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(version_ms(server), 1000);
  EXPECT_LT(rss_mib(server.pid()) - before, 100) << "memory grew without bound";
}

TEST(HostileApi, SlowLorisClientsAreCutOffAndOthersAreStillAnswered) {
  ServerProcess server(ServerOptions{{"-api-read-timeout", "1500ms"}});
  std::vector<Socket> loris;
  for (int i = 0; i < 200; ++i) loris.emplace_back(connect_tcp(server.api_port()));
  const std::string request = "GET /version HTTP/1.1\r\nHost: x\r\n\r\n";
  double worst = 0;
  const auto start = Clock::now();
  for (size_t byte = 0; byte < 12; ++byte) {  // a byte every 100 ms from every client
    for (auto& s : loris) ::send(s.fd(), &request[byte], 1, MSG_NOSIGNAL);
    worst = std::max(worst, version_ms(server));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(worst, 1000) << "other clients must be answered while slow clients dribble";
  // Their whole request had to arrive within the read timeout: they are cut off.
  int cut = 0;
  for (auto& s : loris)
    if (wait_for_end(s.fd(), std::chrono::milliseconds(std::max(100, 4000 - static_cast<int>(ms_since(start))))) != ReadEnd::Timeout) ++cut;
  EXPECT_EQ(cut, 200);
  EXPECT_TRUE(server.running());
}

TEST(HostileApi, OverTheConnectionLimitTheConnectionIdleLongestMakesRoom) {
  ServerProcess server(ServerOptions{{"-api-max-connections", "64"}});
  std::vector<Socket> idle;
  for (int i = 0; i < 300; ++i) {
    idle.emplace_back(connect_tcp(server.api_port()));
    ASSERT_TRUE(idle.back().valid());
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_LT(version_ms(server), 1000) << "a new client must still be served";
  int closed = 0;
  for (auto& s : idle)
    if (wait_for_end(s.fd(), 20ms) != ReadEnd::Timeout) ++closed;
  EXPECT_GE(closed, 300 - 64) << "the oldest idle connections are the ones closed";
  // The newest ones are still usable.
  idle.back().send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(recv_exact(idle.back().fd(), 12, 2s).data.find("HTTP/1.1 200"), std::string::npos);
}

TEST(HostileApi, APipelinedFloodIsAnsweredInOrderWhileOthersAreServed) {
  ServerProcess server;
  Socket flood(connect_tcp(server.api_port()));
  std::string requests;
  for (int i = 0; i < 2000; ++i) requests += "GET /version HTTP/1.1\r\nHost: x\r\n\r\n";
  std::thread writer([&] { flood.send(requests); });
  EXPECT_LT(version_ms(server), 1000);
  std::string replies;
  const auto deadline = Clock::now() + 20s;
  size_t answered = 0;
  while (answered < 2000 && Clock::now() < deadline) {
    ReadResult r = recv_exact(flood.fd(), 4096, 2s);
    replies += r.data;
    answered = 0;
    for (size_t at = replies.find("HTTP/1.1 200"); at != std::string::npos; at = replies.find("HTTP/1.1 200", at + 1)) ++answered;
    if (r.end != ReadEnd::Data) break;
  }
  writer.join();
  EXPECT_EQ(answered, 2000u);
  EXPECT_TRUE(server.running());
}

}  // namespace
}  // namespace faultline::test
