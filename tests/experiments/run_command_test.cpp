// `faultline run` end to end: experiments written for the Chaos Toolkit and
// its Toxiproxy extension, run by the real binary against a real server,
// with their journals read back field by field.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "CliRunner.h"
#include "ServerProcess.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-run-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    server_.create_proxy("db", echo_.port());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const json& experiment) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << experiment.dump(2);
    return path;
  }
  json journal(const std::string& name = "journal.json") {
    std::ifstream in(dir_ / name);
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str());
  }
  CliResult run(std::vector<std::string> args) {
    args.insert(args.begin(), "run");
    if (std::find(args.begin(), args.end(), "--journal-path") == args.end()) {
      args.push_back("--journal-path");
      args.push_back((dir_ / "journal.json").string());
    }
    return run_cli(args);
  }
  json configuration() const {
    return {{"toxiproxy_host", "127.0.0.1"}, {"toxiproxy_port", server_.api_port()}};
  }
  json api_probe() const {
    return {{"type", "probe"},
            {"name", "api-answers"},
            {"provider", {{"type", "http"}, {"url", "http://127.0.0.1:${toxiproxy_port}/version"}, {"timeout", 3}}},
            {"tolerance", 200}};
  }
  bool has_toxic(const std::string& name) {
    return server_.api().get("/proxies/db/toxics/" + name).status == 200;
  }
  // The seed 003 shape: latency through the Toxiproxy extension, a probe, a rollback.
  json latency_experiment() const {
    return {{"version", "1.0.0"},
            {"title", "The API survives 300 ms of latency"},
            {"configuration", configuration()},
            {"steady-state-hypothesis", {{"title", "The API answers"}, {"probes", {api_probe()}}}},
            {"method",
             {{{"type", "action"},
               {"name", "add-latency"},
               {"provider",
                {{"type", "python"},
                 {"module", "chaostoxi.toxic.actions"},
                 {"func", "create_latency_toxic"},
                 {"arguments", {{"for_proxy", "db"}, {"toxic_name", "lag"}, {"latency", 300}, {"jitter", 10}}}}},
               {"pauses", {{"after", 0.2}}}},
              {{"type", "probe"},
               {"name", "read-enabled"},
               {"provider",
                {{"type", "python"},
                 {"module", "chaostoxi.proxy.probes"},
                 {"func", "get_proxy_attribute"},
                 {"arguments", {{"proxy_name", "db"}, {"attribute", "enabled"}}}}}}}},
            {"rollbacks",
             {{{"type", "action"},
               {"name", "remove-latency"},
               {"provider",
                {{"type", "python"},
                 {"module", "chaostoxi.toxic.actions"},
                 {"func", "delete_toxic"},
                 {"arguments", {{"for_proxy", "db"}, {"toxic_name", "lag"}}}}}}}}};
  }

  TestUpstream echo_;
  ServerProcess server_;
  fs::path dir_;
};

TEST_F(RunTest, AToxiproxyExtensionExperimentRunsUnchangedAndWritesTheToolkitsJournal) {
  const CliResult r = run({write("latency.json", latency_experiment())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Steady state hypothesis is met!"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Action: add-latency"), std::string::npos);
  EXPECT_NE(r.err.find("Rollback: remove-latency"), std::string::npos);
  EXPECT_NE(r.err.find("Experiment ended with status: completed"), std::string::npos);
  EXPECT_FALSE(has_toxic("lag")) << "the rollback removed it";
  const json j = journal();
  for (const char* key : {"chaoslib-version", "platform", "node", "experiment", "start", "end", "duration", "status",
                          "deviated", "steady_states", "run", "rollbacks"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["deviated"], false);
  EXPECT_TRUE(j["duration"].is_number());
  EXPECT_GE(j["duration"].get<double>(), 0.2) << "the pause was honoured";
  EXPECT_EQ(j["experiment"]["title"], "The API survives 300 ms of latency");
  EXPECT_EQ(j["steady_states"]["before"]["steady_state_met"], true);
  EXPECT_EQ(j["steady_states"]["after"]["steady_state_met"], true);
  EXPECT_TRUE(j["steady_states"]["during"].is_array());
  const json& probe = j["steady_states"]["before"]["probes"][0];
  EXPECT_EQ(probe["tolerance_met"], true);
  EXPECT_EQ(probe["output"]["status"], 200);
  EXPECT_EQ(probe["activity"]["provider"]["url"], "http://127.0.0.1:" + std::to_string(server_.api_port()) + "/version")
      << "substituted";
  ASSERT_EQ(j["run"].size(), 2u);
  for (const auto& entry : j["run"]) {
    EXPECT_EQ(entry["status"], "succeeded") << entry.dump();
    for (const char* key : {"activity", "output", "start", "end", "duration"}) EXPECT_TRUE(entry.contains(key)) << key;
  }
  EXPECT_EQ(j["run"][0]["output"], true);
  EXPECT_EQ(j["run"][1]["output"], true) << "get_proxy_attribute(enabled)";
  ASSERT_EQ(j["rollbacks"].size(), 1u);
  EXPECT_EQ(j["rollbacks"][0]["output"], true);
  EXPECT_EQ(j["start"].get<std::string>().size(), 26u) << "2026-12-01T17:05:00.123456";
}

TEST_F(RunTest, ADeviationFailsTheRunAndTheDefaultStrategyStillRollsBack) {
  json e = latency_experiment();
  e["steady-state-hypothesis"]["probes"].push_back(
      {{"type", "probe"},
       {"name", "no-toxic"},
       {"provider", {{"type", "http"}, {"url", "http://127.0.0.1:${toxiproxy_port}/proxies/db/toxics"}}},
       // No toxic on the proxy: true before the method, not after it.
       {"tolerance", {{"type", "regex"}, {"pattern", "^\\[\\]$"}, {"target", "body"}}}});
  const CliResult r = run({write("deviates.json", e)});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json j = journal();
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["deviated"], true);
  EXPECT_EQ(j["steady_states"]["after"]["steady_state_met"], false);
  EXPECT_NE(r.err.find("Experiment ended with status: deviated"), std::string::npos) << r.err;
  EXPECT_EQ(j["rollbacks"].size(), 1u);
  EXPECT_FALSE(has_toxic("lag"));
}

TEST_F(RunTest, AHypothesisNotMetBeforeSkipsTheMethod) {
  json e = latency_experiment();
  e["steady-state-hypothesis"]["probes"][0]["tolerance"] = 418;
  CliResult r = run({write("before.json", e)});
  EXPECT_EQ(r.exit_code, 1);
  json j = journal();
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["deviated"], false);
  EXPECT_TRUE(j["run"].empty()) << "the method was skipped";
  EXPECT_TRUE(j["rollbacks"].empty()) << "nothing to roll back by default";
  EXPECT_TRUE(j["steady_states"]["after"].is_null());
  EXPECT_NE(r.err.find("is not in the given tolerance"), std::string::npos);
  r = run({write("before.json", e), "--rollback-strategy", "always"});
  EXPECT_EQ(journal()["rollbacks"].size(), 1u) << "always: even so";
}

TEST_F(RunTest, DryRunsAndStrategies) {
  CliResult r = run({write("dry.json", latency_experiment()), "--dry", "actions"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json j = journal();
  EXPECT_TRUE(j["run"][0]["output"].is_null());
  EXPECT_FALSE(has_toxic("lag"));
  EXPECT_EQ(j["steady_states"]["before"]["probes"][0]["output"]["status"], 200) << "probes still run";
  r = run({write("never.json", latency_experiment()), "--rollback-strategy", "never"});
  EXPECT_TRUE(journal()["rollbacks"].empty());
  EXPECT_TRUE(has_toxic("lag")) << "never: the toxic stays";
  EXPECT_EQ(run({write("x.json", latency_experiment()), "--dry", "everything"}).exit_code, 2);
  EXPECT_EQ(run({write("x.json", latency_experiment()), "--rollback-strategy", "sometimes"}).exit_code, 2);
}

TEST_F(RunTest, VarsOverrideConfigurationAndProblemsAreOneLineBeforeAnythingRuns) {
  json e = latency_experiment();
  e["configuration"]["toxiproxy_port"] = 1;  // wrong on purpose: --var fixes it
  CliResult r = run({write("vars.json", e), "--var", "toxiproxy_port:int=" + std::to_string(server_.api_port())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string var_file = (dir_ / "vars.env").string();
  std::ofstream(var_file) << "# values\ntoxiproxy_port=" << server_.api_port() << "\n";
  r = run({write("vars.json", e), "--var-file", var_file});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  json python = latency_experiment();
  python["method"][0]["provider"]["module"] = "chaosk8s.pod.actions";
  r = run({write("python.json", python)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("method[0].provider: python function chaosk8s.pod.actions.create_latency_toxic is not available"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("Running experiment"), std::string::npos) << "refused before anything ran";
  json env = latency_experiment();
  env["configuration"]["token"] = {{"type", "env"}, {"key", "FAULTLINE_SURELY_UNSET"}};
  r = run({write("env.json", env)});
  EXPECT_NE(r.err.find("configuration.token: environment variable FAULTLINE_SURELY_UNSET is not set"), std::string::npos) << r.err;
  r = run({(dir_ / "missing.json").string()});
  EXPECT_NE(r.err.find("cannot be read"), std::string::npos);
}

TEST_F(RunTest, ValidateNamesEachProblemByItsPath) {
  EXPECT_EQ(run_cli({"validate", write("good.json", latency_experiment())}).exit_code, 0);
  json bad = latency_experiment();
  bad["method"][0]["provider"]["func"] = "create_lag";
  bad["method"][1]["provider"]["arguments"]["proxy_name"] = "${nowhere}";
  bad["steady-state-hypothesis"]["probes"][0]["tolerance"] = {{"type", "regex"}, {"pattern", "("}};
  const CliResult r = run_cli({"validate", write("bad.json", bad)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("method[0].provider: python function chaostoxi.toxic.actions.create_lag is not available"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("method[1]: ${nowhere} is not defined"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("steady-state-hypothesis.probes[0].tolerance: regex tolerance: bad pattern"), std::string::npos) << r.out;
  EXPECT_FALSE(has_toxic("lag")) << "nothing ran";
}

TEST_F(RunTest, AFolderRunEndsWithASummary) {
  const fs::path folder = dir_ / "suite";
  fs::create_directories(folder);
  std::ofstream(folder / "a-latency.json") << latency_experiment().dump();
  json failing = latency_experiment();
  failing["title"] = "Expects a teapot";
  failing["steady-state-hypothesis"]["probes"][0]["tolerance"] = 418;
  std::ofstream(folder / "b-teapot.json") << failing.dump();
  const CliResult r = run({folder.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\u2713 The API survives 300 ms of latency PASSED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\u2717 Expects a teapot FAILED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Passed: 1\nFailed: 1"), std::string::npos) << r.out;
  EXPECT_EQ(journal("journal-a-latency.json")["status"], "completed");
  EXPECT_EQ(journal("journal-b-teapot.json")["status"], "failed");
}

TEST_F(RunTest, ProcessProbesAndTheirTimeouts) {
  json e = {{"title", "processes"},
            {"steady-state-hypothesis",
             {{"title", "echo works"},
              {"probes",
               {{{"type", "probe"},
                 {"name", "echo"},
                 {"provider", {{"type", "process"}, {"path", "echo"}, {"arguments", {"hello", "world"}}}},
                 {"tolerance", {{"type", "regex"}, {"pattern", "^hello world"}, {"target", "stdout"}}}}}}}},
            {"method",
             {{{"type", "action"}, {"name", "slow"}, {"provider", {{"type", "process"}, {"path", "sleep"}, {"arguments", "5"}, {"timeout", 0.3}}}},
              {{"type", "action"}, {"name", "exit-3"}, {"provider", {{"type", "process"}, {"path", "sh"}, {"arguments", {"-c", "exit 3"}}}}}}}};
  const auto started = std::chrono::steady_clock::now();
  const CliResult r = run({write("proc.json", e)});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4)) << "the timeout was enforced";
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json j = journal();
  EXPECT_EQ(j["steady_states"]["before"]["probes"][0]["output"]["stdout"], "hello world\n");
  EXPECT_EQ(j["run"][0]["status"], "failed");
  EXPECT_NE(j["run"][0]["exception"][0].get<std::string>().find("did not finish within"), std::string::npos);
  EXPECT_EQ(j["run"][1]["output"]["status"], 3);
}

TEST_F(RunTest, CtrlCDuringThePauseStopsTheMethodAndStillRollsBack) {
  json e = latency_experiment();
  e["method"][0]["pauses"]["after"] = 30;
  const std::string path = write("interrupt.json", e);
  const std::string journal_path = (dir_ / "journal.json").string();
  const pid_t child = ::fork();
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDERR_FILENO);
    ::execl(FAULTLINE_CLI_PATH, "faultline", "run", path.c_str(), "--journal-path", journal_path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 100 && !has_toxic("lag"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(has_toxic("lag"));
  ::kill(child, SIGINT);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const json j = journal();
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_EQ(j["run"].size(), 1u) << "the probe after the pause did not run";
  EXPECT_EQ(j["rollbacks"].size(), 1u);
  EXPECT_FALSE(has_toxic("lag")) << "rolled back after Ctrl+C";
}

}  // namespace
}  // namespace faultline::test
