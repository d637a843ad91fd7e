// Process flags (spec 1): the Go flag syntax scripts already use, the exit
// codes and messages of bad invocations, and the log level.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using Clock = std::chrono::steady_clock;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t line_count(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n + (!text.empty() && text.back() != '\n');
}

// Waits until the API answers on `port` (the server was started without
// waiting, because it was told to listen somewhere else than usual).
bool api_answers(ServerProcess& server, int port, std::chrono::milliseconds timeout = 20000ms) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!server.running()) return false;
    if (port_accepts(port) && HttpClient(port).get("/version").status == 200) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(Flags, VersionPrintsTheVersionAndExitsZero) {
  // The same version the API reports.
  std::string version;
  {
    ServerProcess server;
    const std::string body = server.api().get("/version").body;  // {"version": "X"}\n
    const size_t end = body.rfind('"'), start = body.rfind('"', end - 1);
    ASSERT_NE(start, std::string::npos) << body;
    version = body.substr(start + 1, end - start - 1);
  }
  for (const char* flag : {"-version", "--version", "-version=true"}) {
    const RunResult r = run_server_to_exit({flag});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "faultline-server version ")) << flag << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "version " + version)) << flag << ": " << r.output;
    EXPECT_EQ(line_count(r.output), 1u) << r.output;
  }
}

TEST(Flags, HelpListsTheFlagsAndExitsZero) {
  for (const char* flag : {"-help", "--help", "-h"}) {
    const RunResult r = run_server_to_exit({flag});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.output;
    for (const char* name : {"-host", "-port", "-config", "-seed", "-proxy-metrics", "-runtime-metrics", "-version", "-grace"})
      EXPECT_TRUE(contains(r.output, name)) << flag << " does not mention " << name << ":\n" << r.output;
  }
}

TEST(Flags, UnknownFlagExitsTwoWithAMessage) {
  const RunResult r = run_server_to_exit({"-no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "flag provided but not defined: -no-such-flag")) << r.output;
}

TEST(Flags, BadValuesExitTwoWithAMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : {Case{{"-seed", "abc"}, "\"abc\""}, Case{{"-grace", "soon"}, "-grace"},
                        Case{{"-port"}, "flag needs an argument: -port"},
                        Case{{"-proxy-metrics=maybe"}, "\"maybe\""},
                        Case{{"stray"}, "\"stray\""}}) {
    const RunResult r = run_server_to_exit(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << ": " << r.output;
    EXPECT_TRUE(contains(r.output, c.message)) << c.args[0] << ": " << r.output;
  }
}

TEST(Flags, HostAndPortInEveryGoForm) {
  // ServerProcess passes "-host 127.0.0.1 -port P" first; later flags win, as in Go.
  const std::vector<std::vector<std::string>> forms = {
      {"-port", "PORT"}, {"-port=PORT"}, {"--port=PORT"}, {"--port", "PORT"}, {"-host=127.0.0.1", "--port=PORT"},
      {"--host", "127.0.0.1", "-port", "PORT"}};
  for (auto form : forms) {
    const int port = free_port();
    std::string shown;
    for (auto& a : form) {
      if (a == "PORT") a = std::to_string(port);
      else if (a.ends_with("=PORT")) a.replace(a.size() - 4, 4, std::to_string(port));
      shown += a + " ";
    }
    ServerProcess server({.args = form, .wait_ready = false});
    EXPECT_TRUE(api_answers(server, port)) << shown << "\n" << server.output();
    EXPECT_FALSE(port_accepts(server.api_port())) << shown << ": the first -port should have been overridden";
  }
}

TEST(Flags, TakenApiPortExitsOneWithAOneLineError) {
  TestUpstream holder;  // something already listening on 127.0.0.1:P
  const RunResult r = run_server_to_exit({"-host", "127.0.0.1", "-port", std::to_string(holder.port())});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(line_count(r.output), 1u) << r.output;
  EXPECT_TRUE(contains(r.output, std::to_string(holder.port()))) << r.output;
  EXPECT_TRUE(contains(r.output, "address already in use")) << r.output;
}

TEST(Flags, LogLevelErrorSilencesInfo) {
  TestUpstream echo;
  std::string quiet_output, normal_output;
  for (const char* level : {"error", "info"}) {
    ServerProcess server({.env = {{"LOG_LEVEL", level}}});
    server.create_proxy("logged", echo.port());
    EXPECT_EQ(server.stop(SIGTERM), 0);
    (std::string(level) == "error" ? quiet_output : normal_output) = server.output();
  }
  EXPECT_TRUE(contains(normal_output, "server started")) << normal_output;
  EXPECT_TRUE(contains(normal_output, "proxy created")) << normal_output;
  EXPECT_FALSE(contains(quiet_output, "server started")) << quiet_output;
  EXPECT_FALSE(contains(quiet_output, "proxy created")) << quiet_output;
  EXPECT_FALSE(contains(quiet_output, " info ")) << quiet_output;
}

TEST(Flags, SeedIsAccepted) {
  for (const char* seed : {"42", "-7", "0"}) {
    ServerProcess server({.args = {"-seed", seed}});
    EXPECT_EQ(server.api().get("/version").status, 200) << seed;
  }
  ServerProcess server({.args = {"--seed=12345"}});
  EXPECT_EQ(server.api().get("/version").status, 200);
}

TEST(Flags, ProxyMetricsFlagServesMetrics) {
  {
    ServerProcess server;
    EXPECT_EQ(server.api().get("/metrics").status, 404);
  }
  ServerProcess server({.args = {"-proxy-metrics"}});
  EXPECT_EQ(server.api().get("/metrics").status, 200);
}

}  // namespace
}  // namespace faultline::test
