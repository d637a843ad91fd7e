// Seed 002's chaos-proxy route files, as shipped in examples/chaos-proxy/:
// every valid one runs with -test-server and answers through its routes
// (drops and latency as configured); every invalid one stops the server at
// start with the route, the field, the value and what is allowed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ServerProcess.h"

namespace faultline::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string example(const std::string& name) { return std::string(FAULTLINE_SOURCE_DIR) + "/examples/chaos-proxy/" + name; }

TEST(RouteFiles, EveryValidExampleServesItsRoutesWithTheirChaos) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(example("valid"))) {
    SCOPED_TRACE(entry.path().filename().string());
    ServerProcess server(ServerOptions{{"-config", entry.path().string(), "-test-server", "-seed", "3"}});
    const auto proxies = nlohmann::json::parse(server.api().get("/proxies").body);
    ASSERT_FALSE(proxies.empty());
    for (const auto& [name, proxy] : proxies.items()) {
      const std::string listen = proxy["listen"];
      const int port = std::stoi(listen.substr(listen.rfind(':') + 1));
      EXPECT_EQ(name, "route_" + std::to_string(port));
      double rate = 0;
      int64_t latency = 0;
      for (const auto& t : proxy["toxics"]) {
        if (t["type"] == "drop") rate = t["toxicity"].get<double>();
        if (t["type"] == "latency") latency = t["attributes"]["latency"].get<int64_t>();
      }
      if (latency > 1000) continue;  // the long tiers are checked by their toxics above, not by waiting
      int answered = 0;
      double fastest_ms = 1e9;
      for (int i = 0; i < 8 && answered < 2; ++i) {
        const auto start = Clock::now();
        HttpResponse r;
        try {
          r = HttpClient(port).get("/");
        } catch (const std::exception&) {  // dropped: closed before any byte
          continue;
        }
        if (r.status == 200) {
          ++answered;
          fastest_ms = std::min(fastest_ms, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
          EXPECT_NE(r.body.find("Hello from the faultline demo upstream"), std::string::npos) << "the -test-server answered";
        }
      }
      if (rate >= 1.0) {
        EXPECT_EQ(answered, 0) << name << " drops every connection";
      } else if (rate <= 0.2) {
        EXPECT_GE(answered, 1) << name;
      }
      if (answered > 0) {
        EXPECT_GE(fastest_ms, static_cast<double>(latency) * 0.95) << name << ": latencyMs " << latency;
      }
    }
    ++files;
  }
  EXPECT_EQ(files, 6);
}

TEST(RouteFiles, EveryInvalidExampleIsRefusedNamingRouteFieldValueAndAllowed) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"duplicate_ports.json", R"(route #2 (localPort 8180): field "localPort" is 8180 (each route needs its own port)"},
      {"invalid_upstream_hostname.json", R"(field "upstream" is "localhost:9090" (an IP address and port)"},
      {"invalid_port_range.json", R"(route #1: field "localPort" is 70000 (a whole number from 1 to 65535))"},
      {"invalid_drop_rate.json", R"(field "dropRate" is 1.5 (a number from 0.0 to 1.0))"},
      {"invalid_negative_latency.json", R"(field "latencyMs" is -100 (a whole number of milliseconds, 0 or more))"},
      {"invalid_missing_upstream.json", R"(field "upstream" is "" (an IP address and port)"},
      {"invalid_zero_port.json", R"(route #1: field "localPort" is 0 (a whole number from 1 to 65535))"},
  };
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(example("invalid"))) ++files;
  EXPECT_EQ(files, expected.size()) << "every invalid example is checked";
  for (const auto& [file, message] : expected) {
    const RunResult r = run_server_to_exit({"-port", "0", "-config", example("invalid/" + file)});
    EXPECT_NE(r.exit_code, 0) << file;
    EXPECT_NE(r.output.find(message), std::string::npos) << file << ":\n" << r.output;
  }
  const RunResult hint = run_server_to_exit({"-port", "0", "-config", example("invalid/invalid_upstream_hostname.json")});
  EXPECT_NE(hint.output.find("hint: host names are not accepted"), std::string::npos);
}

}  // namespace
}  // namespace faultline::test
