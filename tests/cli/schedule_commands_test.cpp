// The schedule commands: flap, ramp, wave, --for on a shortcut, schedules,
// schedule rm / apply, and --wait with Ctrl+C (a real SIGINT to the CLI).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "CliFixture.h"

namespace faultline::test {
namespace {

using namespace std::chrono_literals;

nlohmann::json schedule_of(const ServerProcess& server, const std::string& name) {
  const auto r = server.api().get("/faultline/schedules/" + name);
  return r.status == 200 ? nlohmann::json::parse(r.body) : nlohmann::json();
}

TEST_F(CliTest, FlapTakesTheOperatorScriptsFlagsAndDefaults) {
  create("redis");
  auto r = cli({"flap", "redis", "--mode", "timeout", "--up", "10s", "--down", "5s", "--timeout", "20s", "--stream", "up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Started schedule 'redis_flap' on proxy 'redis' (flap, timeout: 10000 ms up / 5000 ms down, until cancelled)\n");
  auto s = schedule_of(server, "redis_flap");
  EXPECT_EQ(s["timeout_ms"], 20000);
  EXPECT_EQ(s["stream"], "up");

  r = cli({"flap", "redis", "-n", "defaults"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = schedule_of(server, "defaults");
  EXPECT_EQ(s["mode"], "timeout");
  EXPECT_EQ(s["up_ms"], 15000);
  EXPECT_EQ(s["down_ms"], 15000);
  EXPECT_EQ(s["timeout_ms"], 30000);
  EXPECT_EQ(s["stream"], "both");
  EXPECT_EQ(s["iterations"], 0);

  r = cli({"flap", "redis", "--mode", "refuse", "--up", "5s", "--down", "5s", "--iterations", "5", "-n", "r5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(schedule_of(server, "r5")["iterations"], 5);

  r = cli({"flap", "redis"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Failed to create schedule: HTTP 409: schedule already exists\n");
}

TEST_F(CliTest, RampAndWaveAddTheToxicOfTheirAttribute) {
  create("redis");
  auto r = cli({"ramp", "redis", "latency", "--from", "0", "--to", "500", "--over", "60s", "--steps", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(toxic_json("redis", "redis_ramp")["type"], "latency");
  EXPECT_EQ(schedule_of(server, "redis_ramp")["steps"], 6);
  r = cli({"wave", "redis", "rate", "--min", "10", "--max", "100", "--period", "10s", "--shape", "square"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(toxic_json("redis", "redis_wave")["type"], "bandwidth");
  r = cli({"ramp", "redis", "toxicity", "--from", "0.1", "--to", "0.3", "--over", "1m", "-n", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--toxic NAME"), std::string::npos) << r.err;
  r = cli({"ramp", "redis", "latency", "--toxic", "nosuch", "--from", "0", "--to", "1", "--over", "1s", "-n", "y"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Failed to create schedule: HTTP 404: toxic not found\n");
}

TEST_F(CliTest, ForMakesAShortcutsToxicsTimed) {
  create("redis");
  const auto r = cli({"latency", "redis", "500", "--for", "1s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Added downstream latency toxic 'latency_downstream' on proxy 'redis' for 1000 ms\n");
  EXPECT_EQ(toxic_json("redis", "latency_downstream")["duration_ms"], 1000);
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(toxic_json("redis", "latency_downstream").is_null()) << "gone by itself";
}

TEST_F(CliTest, SchedulesListsAndRmCancels) {
  create("redis");
  ASSERT_EQ(cli({"flap", "redis", "--mode", "refuse", "--up", "1ms", "--down", "1h"}).exit_code, 0);
  std::this_thread::sleep_for(200ms);
  auto r = cli({"schedules"});
  EXPECT_EQ(r.out, "redis_flap\tproxy=redis\tkind=flap\tstate=running\tphase=down\titeration=0\ttransitions=1\n");
  EXPECT_FALSE(proxy_json("redis")["enabled"].get<bool>());
  r = cli({"schedule", "rm", "redis_flap"});
  EXPECT_EQ(r.out, "Removed schedule 'redis_flap'; what it changed is undone\n");
  EXPECT_TRUE(proxy_json("redis")["enabled"].get<bool>());
  EXPECT_EQ(cli({"schedules"}).out, "");
  EXPECT_EQ(cli({"schedules", "--json"}).out, "[]\n");
}

TEST_F(CliTest, ScheduleApplyReadsAYamlList) {
  create("redis");
  char path[] = "/tmp/faultline-schedules-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string yaml = "- name: a\n  proxy: redis\n  kind: flap\n  mode: refuse\n  up_ms: 1s\n  down_ms: 1s\n"
                           "- name: b\n  proxy: redis\n  kind: window\n  duration_ms: 1m\n  toxic: {type: latency, attributes: {latency: 5}}\n";
  ASSERT_EQ(::write(fd, yaml.data(), yaml.size()), static_cast<ssize_t>(yaml.size()));
  ::close(fd);
  const auto r = cli({"schedule", "apply", path});
  ::unlink(path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(schedule_of(server, "a")["state"], "running");
  EXPECT_EQ(toxic_json("redis", "b")["attributes"]["latency"], 5);
}

TEST_F(CliTest, WaitFollowsTheScheduleAndCtrlCCancelsIt) {
  create("redis");
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(FAULTLINE_CLI_PATH, FAULTLINE_CLI_PATH, "-h", url().c_str(), "flap", "redis", "--mode", "timeout", "--up", "1ms",
            "--down", "1h", "--wait", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  bool down = false;
  for (int i = 0; i < 250 && !down; ++i) {
    std::this_thread::sleep_for(20ms);
    down = schedule_of(server, "redis_flap")["phase"] == "down";
  }
  ASSERT_TRUE(down);
  EXPECT_FALSE(toxic_json("redis", "redis_flap_upstream").is_null());
  std::this_thread::sleep_for(300ms);  // the CLI has seen the phase
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string printed;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) printed.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_NE(printed.find("phase down"), std::string::npos) << printed;
  EXPECT_NE(printed.find("Cancelled schedule 'redis_flap'"), std::string::npos) << printed;
  EXPECT_TRUE(toxic_json("redis", "redis_flap_upstream").is_null()) << "the server cleaned up";
  EXPECT_TRUE(schedule_of(server, "redis_flap").is_null());
}

}  // namespace
}  // namespace faultline::test
