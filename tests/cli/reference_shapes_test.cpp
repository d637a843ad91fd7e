// The CLI against the reference server's JSON: a tiny fake HTTP server
// replays bodies recorded from Toxiproxy 2.8 ("Logger":{} in every proxy,
// toxicity as a float) and records what the CLI sent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "CliRunner.h"

namespace faultline::test {
namespace {

const char* kProxies =
    R"({"redis":{"name":"redis","listen":"127.0.0.1:26379","upstream":"localhost:6379","enabled":true,"Logger":{},)"
    R"("toxics":[{"attributes":{"timeout":0},"name":"cut","type":"timeout","stream":"upstream","toxicity":0.5},)"
    R"({"attributes":{"latency":1000,"jitter":50},"name":"latency_downstream","type":"latency","stream":"downstream",)"
    R"("toxicity":1}]},)"
    R"("web":{"name":"web","listen":"127.0.0.1:28080","upstream":"localhost:8080","enabled":false,"Logger":{},"toxics":[]}})"
    "\n";

const char* kRedis =
    R"({"name":"redis","listen":"127.0.0.1:26379","upstream":"localhost:6379","enabled":true,"Logger":{},)"
    R"("toxics":[{"attributes":{"timeout":0},"name":"cut","type":"timeout","stream":"upstream","toxicity":0.5},)"
    R"({"attributes":{"latency":1000,"jitter":50},"name":"latency_downstream","type":"latency","stream":"downstream",)"
    R"("toxicity":1}]})"
    "\n";

const char* kAddedToxic =
    R"({"attributes":{"rate":100},"name":"bandwidth_downstream","type":"bandwidth","stream":"downstream","toxicity":1})"
    "\n";

// One request per connection, answered from a table of "METHOD PATH".
class FakeToxiproxy {
 public:
  FakeToxiproxy() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("fake server: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeToxiproxy() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  void route(const std::string& request_line, int status, std::string body) {
    std::lock_guard lock(mutex_);
    routes_[request_line] = {status, std::move(body)};
  }
  int port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      answer(client);
      ::close(client);
    }
  }

  void answer(int client) {
    std::string request;
    char buffer[4096];
    size_t header_end = std::string::npos;
    size_t body_length = 0;
    while (header_end == std::string::npos || request.size() < header_end + 4 + body_length) {
      const ssize_t n = ::read(client, buffer, sizeof buffer);
      if (n <= 0) return;
      request.append(buffer, static_cast<size_t>(n));
      header_end = request.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const auto at = request.find("Content-Length: ");
        if (at != std::string::npos && at < header_end) body_length = std::stoul(request.substr(at + 16));
      }
    }
    const std::string line = request.substr(0, request.find(" HTTP/1.1"));
    std::pair<int, std::string> reply{404, "{\"error\":\"proxy not found\",\"status\":404}\n"};
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(line + " " + request.substr(header_end + 4));
      if (const auto it = routes_.find(line); it != routes_.end()) reply = it->second;
    }
    const std::string response = "HTTP/1.1 " + std::to_string(reply.first) +
                                 " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                                 std::to_string(reply.second.size()) + "\r\n\r\n" + reply.second;
    (void)!::write(client, response.data(), response.size());
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::pair<int, std::string>> routes_;
  std::vector<std::string> requests_;
};

class ReferenceShapes : public ::testing::Test {
 protected:
  CliResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"-h", api_url(fake.port())});
    return run_cli(args);
  }
  FakeToxiproxy fake;
};

}  // namespace

TEST_F(ReferenceShapes, ListParsesToxiproxyJson) {
  fake.route("GET /proxies", 200, kProxies);
  const auto result = cli({"list"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "redis\t127.0.0.1:26379\tlocalhost:6379\tenabled\t2\n"
            "web\t127.0.0.1:28080\tlocalhost:8080\tdisabled\t0\n");
}

TEST_F(ReferenceShapes, InspectParsesToxiproxyJson) {
  fake.route("GET /proxies/redis", 200, kRedis);
  const auto result = cli({"inspect", "redis"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "cut\ttype=timeout\tstream=upstream\ttoxicity=0.50\tattributes=[\ttimeout=0\t]\n"
            "latency_downstream\ttype=latency\tstream=downstream\ttoxicity=1.00\tattributes=[\tjitter=50\tlatency=1000\t]\n");
}

TEST_F(ReferenceShapes, JsonIsPassedThroughUntouched) {
  fake.route("GET /proxies", 200, kProxies);
  EXPECT_EQ(cli({"list", "--json"}).out, kProxies);
}

TEST_F(ReferenceShapes, StatusParsesToxiproxyJson) {
  fake.route("GET /proxies", 200, kProxies);
  const auto result = cli({"status"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("cut"), std::string::npos);
  EXPECT_NE(result.out.find("0.50"), std::string::npos);
  EXPECT_NE(result.out.find("web    disabled"), std::string::npos) << result.out;
}

TEST_F(ReferenceShapes, ToxicAddSendsWhatTheReferenceServerExpects) {
  fake.route("GET /proxies/redis", 200, kRedis);
  fake.route("POST /proxies/redis/toxics", 200, kAddedToxic);
  const auto result = cli({"toxic", "add", "redis", "-t", "bandwidth", "-a", "rate=100", "-a", "mode=fast"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Added downstream bandwidth toxic 'bandwidth_downstream' on proxy 'redis'\n");
  const auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  const auto body = nlohmann::json::parse(requests[1].substr(requests[1].find('{')));
  EXPECT_EQ(body["type"], "bandwidth");
  EXPECT_EQ(body["stream"], "downstream");
  EXPECT_TRUE(body["attributes"]["rate"].is_number_integer());
  EXPECT_EQ(body["attributes"]["mode"], "fast") << "a non-number is sent as a string";
}

TEST_F(ReferenceShapes, ErrorBodiesInPlainTextAreShownAsTheyAre) {
  fake.route("GET /proxies", 500, "something broke\n");
  const auto result = cli({"list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "Failed to retrieve proxies: HTTP 500: something broke\n");
}

}  // namespace faultline::test
