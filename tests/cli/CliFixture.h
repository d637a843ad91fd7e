#pragma once
// A real faultline-server on a free port, an echo upstream, and `cli()` to
// run the faultline binary against that server.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "CliRunner.h"
#include "ServerProcess.h"
#include "Upstreams.h"

namespace faultline::test {

class CliTest : public ::testing::Test {
 protected:
  // Runs `faultline -h URL args...` with stdout on a pipe.
  CliResult cli(std::vector<std::string> args, CliOptions options = {}) {
    args.insert(args.begin(), {"-h", url()});
    return run_cli(args, options);
  }
  // The same on a pseudo-terminal.
  CliResult cli_terminal(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
    return cli(std::move(args), CliOptions{std::move(env), true});
  }
  std::string url() const { return api_url(server.api_port()); }
  std::string upstream() const { return "127.0.0.1:" + std::to_string(echo.port()); }

  // Creates a proxy through the CLI on an ephemeral port.
  void create(const std::string& name) {
    const auto result = cli({"create", name, "-l", "127.0.0.1:0", "-u", upstream()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  nlohmann::json proxy_json(const std::string& name) {
    return nlohmann::json::parse(server.api().get("/proxies/" + name).body);
  }
  nlohmann::json toxic_json(const std::string& proxy, const std::string& toxic) {
    const auto response = server.api().get("/proxies/" + proxy + "/toxics/" + toxic);
    return response.status == 200 ? nlohmann::json::parse(response.body) : nlohmann::json();
  }

  TestUpstream echo;
  ServerProcess server;
};

}  // namespace faultline::test
