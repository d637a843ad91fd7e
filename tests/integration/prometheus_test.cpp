// A real Prometheus (Debian's package) scrapes a running faultline: the
// target is up, and PromQL over Prometheus' HTTP API returns the byte
// counters while traffic flows and the toxics gauge. The Grafana dashboard in
// examples/ is checked to ask only for metric names the server exports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "HttpClient.h"
#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

namespace fs = std::filesystem;

// Prometheus on a free port, scraping `target` every second, with its data in a temporary folder.
class Prometheus {
 public:
  explicit Prometheus(int target_port) : dir_(fs::temp_directory_path() / ("faultline-prometheus-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_ / "data");
    std::ofstream(dir_ / "prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                              "scrape_configs:\n  - job_name: faultline\n    static_configs:\n"
                                              "      - targets: ['127.0.0.1:" << target_port << "']\n";
    port_ = free_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string config = "--config.file=" + (dir_ / "prometheus.yml").string();
      const std::string data = "--storage.tsdb.path=" + (dir_ / "data").string();
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execlp("prometheus", "prometheus", config.c_str(), data.c_str(), listen.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Prometheus() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  int port() const { return port_; }
  // The first sample of an instant query's result, or nothing yet.
  std::optional<double> query(const std::string& promql) const {
    std::string encoded;
    for (unsigned char c : promql) {
      if (std::isalnum(c) || c == '_' || c == '.' || c == '-') encoded += static_cast<char>(c);
      else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    try {
      const auto r = HttpClient(port_).get("/api/v1/query?query=" + encoded);
      const auto j = nlohmann::json::parse(r.body);
      const auto& result = j["data"]["result"];
      if (result.empty()) return std::nullopt;
      return std::stod(result[0]["value"][1].get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  bool target_up() const {
    try {
      const auto j = nlohmann::json::parse(HttpClient(port_).get("/api/v1/targets").body);
      for (const auto& t : j["data"]["activeTargets"])
        if (t["health"] == "up") return true;
    } catch (const std::exception&) {
    }
    return false;
  }

 private:
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

template <class F>
bool eventually(F check, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

TEST(Prometheus, ScrapesTheByteCountersAndTheToxicsGaugeWhileTrafficFlows) {
  ServerProcess server(ServerOptions{{"-proxy-metrics", "-runtime-metrics"}});
  TestUpstream echo;
  const int port = server.create_proxy("db", echo.port());
  ASSERT_EQ(server.api().post("/proxies/db/toxics", R"({"type":"latency","attributes":{"latency":1}})").status, 200);
  std::atomic<bool> stop{false};
  std::thread traffic([&] {
    Socket s(connect_tcp(port));
    const std::string chunk(4096, 'x');
    while (!stop) {
      s.send(chunk);
      recv_exact(s.fd(), chunk.size(), std::chrono::milliseconds(2000));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  Prometheus prometheus(server.api_port());
  const bool up = eventually([&] { return prometheus.target_up(); }, std::chrono::seconds(60));
  const bool bytes = up && eventually([&] {
    const auto v = prometheus.query(R"(sum(faultline_proxy_bytes_total{proxy="db",direction="upstream"}))");
    return v && *v > 0;
  }, std::chrono::seconds(30));
  const bool flowing = bytes && eventually([&] {
    const auto v = prometheus.query(R"(sum(rate(faultline_proxy_bytes_total{proxy="db"}[5s])))");
    return v && *v > 0;
  }, std::chrono::seconds(30));
  stop = true;
  traffic.join();
  ASSERT_TRUE(up) << "Prometheus never saw faultline up";
  EXPECT_TRUE(bytes) << "no byte counter in Prometheus";
  EXPECT_TRUE(flowing) << "the byte counters did not move while traffic flowed";
  EXPECT_EQ(prometheus.query(R"(faultline_proxy_toxics{proxy="db",type="latency"})"), 1.0);
  EXPECT_EQ(prometheus.query(R"(faultline_proxy_enabled{proxy="db"})"), 1.0);
}

TEST(GrafanaDashboard, AsksOnlyForMetricsTheServerExports) {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/examples/grafana-dashboard.json");
  ASSERT_TRUE(in) << "examples/grafana-dashboard.json";
  const auto dashboard = nlohmann::json::parse(in);
  std::set<std::string> asked;
  const std::regex metric(R"(\b((?:faultline|process|toxiproxy)_[a-z0-9_]+))");
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "expr" && v.is_string()) {
          const std::string expr = v.get<std::string>();
          for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric); it != std::sregex_iterator(); ++it) asked.insert((*it)[1]);
        } else {
          walk(v);
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(dashboard);
  ASSERT_GE(asked.size(), 5u);
  // Everything the server can export shows once there is a proxy with traffic, a toxic and an API call.
  ServerProcess server(ServerOptions{{"-proxy-metrics", "-runtime-metrics"}});
  TestUpstream echo;
  const int port = server.create_proxy("db", echo.port());
  server.api().post("/proxies/db/toxics", R"({"type":"latency","attributes":{"latency":1}})");
  {
    Socket s(connect_tcp(port));
    s.send("ping");
    recv_exact(s.fd(), 4);
  }
  const std::string exported = server.api().get("/metrics").body;
  for (const auto& name : asked)
    EXPECT_NE(exported.find("\n" + name), std::string::npos) << "the dashboard asks for " << name << ", which /metrics does not export";
}

}  // namespace
}  // namespace faultline::test
