// `faultline run` with what the Chaos Toolkit cannot do alone: the
// `faultline` provider (API calls by name, `load`, `wait_for`), background
// activities, the hypothesis checked during the method, activity timeouts,
// probe tolerances and the experiment's `runtime` block. Real binary, real
// server, real echo upstream; journals read back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "CliRunner.h"
#include "ServerProcess.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json faultline_call(const std::string& func, json arguments) {
  return {{"type", "faultline"}, {"func", func}, {"arguments", std::move(arguments)}};
}
json action(const std::string& name, json provider) { return {{"type", "action"}, {"name", name}, {"provider", std::move(provider)}}; }
json probe(const std::string& name, json provider, json tolerance) {
  return {{"type", "probe"}, {"name", name}, {"provider", std::move(provider)}, {"tolerance", std::move(tolerance)}};
}

class FaultlineProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-provider-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    db_port_ = server_.create_proxy("db", echo_.port());
  }
  void TearDown() override { fs::remove_all(dir_); }

  json experiment(const std::string& title) const {
    return {{"version", "1.0.0"},
            {"title", title},
            {"configuration", {{"faultline_url", api_url(server_.api_port())}, {"db", "tcp://127.0.0.1:" + std::to_string(db_port_)}}}};
  }
  CliResult run(const json& e, std::vector<std::string> extra = {}) {
    const std::string path = (dir_ / "experiment.json").string();
    std::ofstream(path) << e.dump(2);
    std::vector<std::string> args = {"run", path, "--journal-path", (dir_ / "journal.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  json journal() {
    std::ifstream in(dir_ / "journal.json");
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str());
  }
  json toxics() { return json::parse(server_.api().get("/proxies/db/toxics").body); }
  // The proxy is enabled: a probe whose tolerance reads the API's answer.
  json enabled_probe() const {
    return probe("db-enabled", faultline_call("get_proxy", {{"proxy", "db"}}),
                 {{"type", "jsonpath"}, {"path", "$.enabled"}, {"expect", true}});
  }

  TestUpstream echo_;
  ServerProcess server_;
  int db_port_ = 0;
  fs::path dir_;
};

TEST_F(FaultlineProviderTest, ApiCallsByNameWithTheirOutputsInTheJournal) {
  json e = experiment("Toxics and schedules by name");
  e["method"] = {
      action("timed-latency", faultline_call("add_toxic", {{"proxy", "db"},
                                                           {"name", "lag"},
                                                           {"type", "latency"},
                                                           {"attributes", {{"latency", 50}}},
                                                           {"duration_ms", "30s"}})),
      probe("lag-listed", faultline_call("list_toxics", {{"proxy", "db"}}),
            {{"type", "jsonpath"}, {"path", "$[*].name"}, {"expect", "lag"}}),
      action("remove-lag", faultline_call("remove_toxic", {{"proxy", "db"}, {"toxic", "lag"}})),
      action("short-window", faultline_call("start_schedule", {{"proxy", "db"},
                                                               {"kind", "window"},
                                                               {"name", "blip"},
                                                               {"duration_ms", "300ms"},
                                                               {"toxic", {{"type", "latency"}, {"attributes", {{"latency", 10}}}}}})),
      action("wait-for-window", faultline_call("wait_schedule", {{"schedule", "blip"}, {"timeout", 10}})),
      action("generic-call", faultline_call("request", {{"method", "GET"}, {"path", "/version"}})),
  };
  const CliResult r = run(e);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = journal();
  ASSERT_EQ(j["run"].size(), 6u);
  for (const auto& entry : j["run"]) EXPECT_EQ(entry["status"], "succeeded") << entry.dump();
  EXPECT_EQ(j["run"][0]["output"]["name"], "lag");
  EXPECT_EQ(j["run"][0]["output"]["duration_ms"], 30000) << "the timed toxic's own key reached the server";
  EXPECT_EQ(j["run"][4]["output"]["state"], "finished");
  EXPECT_GE(j["run"][4]["duration"].get<double>(), 0.2) << "wait_schedule waited for the window to end";
  EXPECT_TRUE(j["run"][5]["output"].contains("version"));
  EXPECT_TRUE(toxics().empty());
}

TEST_F(FaultlineProviderTest, UnknownFunctionsAndArgumentsAreRefusedBeforeAnythingRuns) {
  json e = experiment("Typos");
  e["method"] = {action("first", faultline_call("add_toxic", {{"proxy", "db"}, {"type", "latency"}, {"name", "must-not-exist"}})),
                 action("second", faultline_call("add_toxik", {{"proxy", "db"}}))};
  CliResult r = run(e);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("method[1].provider.func: faultline has no function \"add_toxik\" (allowed: "), std::string::npos) << r.err;
  EXPECT_TRUE(toxics().empty()) << "nothing ran";

  e["method"] = {action("bad-argument", faultline_call("remove_toxic", {{"proxy", "db"}, {"toxic", "x"}, {"strem", "up"}}))};
  r = run(e);
  EXPECT_NE(r.err.find("method[0].provider.arguments.strem: remove_toxic takes no such argument (allowed: proxy, toxic)"),
            std::string::npos)
      << r.err;
}

// The hypothesis measures what a client sees: p99 and error rate of a short
// load run. Under 200 ms of latency the hypothesis after the method is not
// met; the rollback takes the latency away.
TEST_F(FaultlineProviderTest, LoadProbeToleranceOnP99AndErrorRate) {
  json e = experiment("The client's p99 stays under 100 ms");
  const json load = faultline_call("load", {{"targets", "${db}"}, {"duration", 1}, {"warmup", 0}, {"concurrency", 4}});
  json slo_load = load;
  slo_load["arguments"]["slo"] = {{"p99_ms", 100}, {"error_rate", 0.001}, {"time_to_recovery_ms", 1000}};
  e["steady-state-hypothesis"] = {
      {"title", "p99 under 100 ms, no errors"},
      {"probes",
       {probe("slo", slo_load, {{"type", "jsonpath"}, {"path", "$.slo.met"}, {"expect", true}}),
        probe("p99", load, {{"type", "range"}, {"range", {0, 100}}, {"target", "p99_ms"}}),
        probe("errors", load, {{"type", "range"}, {"range", {0, 0.001}}, {"target", "error_rate"}})}}};
  e["method"] = {action("latency", faultline_call("add_toxic", {{"proxy", "db"}, {"name", "lag"}, {"type", "latency"},
                                                                {"attributes", {{"latency", 200}}}}))};
  e["rollbacks"] = {action("no-latency", faultline_call("remove_toxic", {{"proxy", "db"}, {"toxic", "lag"}}))};
  const CliResult r = run(e);
  EXPECT_EQ(r.exit_code, 1);
  const json j = journal();
  ASSERT_TRUE(j["steady_states"]["before"]["steady_state_met"].get<bool>()) << j["steady_states"]["before"].dump();
  const json& before = j["steady_states"]["before"]["probes"][0]["output"];
  EXPECT_GT(before["targets"][0]["count"].get<int>(), 100) << "the load ran against the echo server";
  EXPECT_LT(before["p99_ms"].get<double>(), 100.0);
  EXPECT_EQ(before["targets"].size(), 1u) << "the whole report is in the output";
  EXPECT_TRUE(before["slo"]["met"].get<bool>()) << "no fault: nothing had to recover";
  const json& after = j["steady_states"]["after"];
  EXPECT_FALSE(after["steady_state_met"].get<bool>());
  const json& slo_output = after["probes"][0]["output"];
  EXPECT_GE(slo_output["p99_ms"].get<double>(), 190.0);
  // The latency is still on when this load ends: it has not recovered.
  ASSERT_EQ(slo_output["slo"]["failures"].size(), 2u) << slo_output["slo"].dump();
  EXPECT_EQ(slo_output["slo"]["failures"][0].get<std::string>().rfind("p99_ms ", 0), 0u);
  EXPECT_NE(slo_output["slo"]["failures"][0].get<std::string>().find(" > 100"), std::string::npos);
  EXPECT_EQ(slo_output["slo"]["failures"][1], "time_to_recovery_ms null > 1000");
  EXPECT_EQ(j["deviated"], true);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_TRUE(toxics().empty()) << "rolled back";
}

// A background load measures through the method; a schedule makes a fault
// window in the middle; the load's report has the window and its recovery.
TEST_F(FaultlineProviderTest, BackgroundLoadMeasuresAScheduledFaultAndItsRecovery) {
  json e = experiment("Recovery after a 600 ms latency window");
  json load = action("load", faultline_call("load", {{"targets", "${db}"}, {"duration", 3}, {"warmup", 0.5}, {"rate", 200}}));
  load["background"] = true;
  json window = action("window", faultline_call("start_schedule", {{"proxy", "db"},
                                                                   {"kind", "window"},
                                                                   {"name", "lag-window"},
                                                                   {"start_ms", "1s"},
                                                                   {"duration_ms", "600ms"},
                                                                   {"toxic", {{"type", "latency"}, {"attributes", {{"latency", 150}}}}}}));
  e["method"] = {load, window, action("wait", faultline_call("wait_schedule", {{"schedule", "lag-window"}, {"timeout", 10}}))};
  const auto start = std::chrono::steady_clock::now();
  const CliResult r = run(e);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = journal();
  ASSERT_EQ(j["run"].size(), 3u);
  EXPECT_EQ(j["run"][0]["activity"]["name"], "load") << "entries keep the method's order";
  EXPECT_LT(took, 3.5 + 2.5) << "the load ran alongside the window, not before it";
  const json& out = j["run"][0]["output"];
  EXPECT_FALSE(out.contains("status")) << "a load output has no status key to confuse tolerances";
  EXPECT_GE(out["fault_count"].get<int>(), 1) << out["faults"].dump();
  EXPECT_EQ(out["faults"][0]["schedule"], "lag-window");
  EXPECT_TRUE(out["recovered"].get<bool>()) << out["faults"].dump();
  EXPECT_TRUE(out["time_to_recovery_ms"].is_number());
  EXPECT_GE(out["p99_ms"].get<double>(), 100.0) << "the window's latency is in the tail";
  // The background activity ended after the foreground ones.
  EXPECT_GT(j["run"][0]["end"].get<std::string>(), j["run"][1]["end"].get<std::string>());
}

TEST_F(FaultlineProviderTest, HypothesisDuringTheMethodAndFailFast) {
  json e = experiment("The proxy stays enabled");
  e["steady-state-hypothesis"] = {{"title", "db is enabled"}, {"probes", {enabled_probe()}}};
  json disable = action("disable", faultline_call("disable_proxy", {{"proxy", "db"}}));
  disable["pauses"] = {{"after", 1}};
  const json enable = action("enable", faultline_call("enable_proxy", {{"proxy", "db"}}));
  e["method"] = {disable, enable};
  e["rollbacks"] = {enable};

  CliResult r = run(e, {"--hypothesis-strategy", "during-method-only", "--hypothesis-frequency", "0.2"});
  EXPECT_EQ(r.exit_code, 1);
  json j = journal();
  EXPECT_TRUE(j["steady_states"]["before"].is_null());
  EXPECT_TRUE(j["steady_states"]["after"].is_null());
  const json& during = j["steady_states"]["during"];
  ASSERT_GE(during.size(), 3u) << "checked every 0.2 s through a 1 s pause";
  bool missed = false;
  for (const auto& state : during) missed = missed || !state["steady_state_met"].get<bool>();
  EXPECT_TRUE(missed);
  EXPECT_EQ(j["deviated"], true);
  EXPECT_EQ(j["run"].size(), 2u) << "without --fail-fast the method goes on";

  e["method"][0]["pauses"]["after"] = 5;
  const auto start = std::chrono::steady_clock::now();
  r = run(e, {"--hypothesis-strategy", "continuously", "--hypothesis-frequency", "0.2", "--fail-fast"});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1);
  j = journal();
  EXPECT_TRUE(j["steady_states"]["before"]["steady_state_met"].get<bool>());
  EXPECT_EQ(j["run"].size(), 1u) << "--fail-fast stopped the method after the first miss";
  EXPECT_LT(took, 4.0) << "the 5 s pause was cut short";
  EXPECT_TRUE(j["steady_states"]["after"].is_null()) << "a stopped method is not checked after";
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["rollbacks"].size(), 1u);
  EXPECT_TRUE(json::parse(server_.api().get("/proxies/db").body)["enabled"].get<bool>());
}

TEST_F(FaultlineProviderTest, ActivityTimeoutsAndWaitFor) {
  json e = experiment("Timeouts");
  json slow = action("slow", {{"type", "process"}, {"path", "sleep"}, {"arguments", {"5"}}});
  slow["timeout"] = 0.5;
  // wait_for: the timed toxic removes itself; wait until the proxy shows none.
  const json gone = faultline_call("wait_for", {{"probe", faultline_call("get_proxy", {{"proxy", "db"}})},
                                                {"tolerance", {{"type", "regex"}, {"pattern", "\"toxics\":\\[\\]"}}},
                                                {"timeout", 5},
                                                {"interval", 0.1}});
  json never = action("never", faultline_call("wait_for", {{"probe", faultline_call("list_toxics", {{"proxy", "db"}})},
                                                           {"tolerance", {{"type", "jsonpath"}, {"path", "$[*].name"}, {"expect", "ghost"}}},
                                                           {"timeout", 0.6}}));
  e["method"] = {slow,
                 action("short-toxic", faultline_call("add_toxic", {{"proxy", "db"}, {"type", "latency"}, {"duration_ms", 400}})),
                 action("until-gone", gone), never};
  const auto start = std::chrono::steady_clock::now();
  const CliResult r = run(e);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 0) << "failed actions do not fail the experiment (the toolkit's rule)";
  EXPECT_LT(took, 4.5) << "the 5 s sleep was cut at 0.5 s";
  const json j = journal();
  ASSERT_EQ(j["run"].size(), 4u);
  EXPECT_EQ(j["run"][0]["status"], "failed");
  EXPECT_NE(j["run"][0]["exception"][0].get<std::string>().find("longer than its timeout of 0.5 s"), std::string::npos)
      << j["run"][0].dump();
  EXPECT_EQ(j["run"][2]["status"], "succeeded");
  EXPECT_GE(j["run"][2]["output"]["attempts"].get<int>(), 2) << "it polled until the toxic expired";
  EXPECT_EQ(j["run"][3]["status"], "failed");
  EXPECT_NE(j["run"][3]["exception"][0].get<std::string>().find("not within tolerance after 0.6 s"), std::string::npos);
}

// {"type": "probe"}: another probe judges the output, given as its argument.
TEST_F(FaultlineProviderTest, ProbeTolerancesJudgeTheOutput) {
  json e = experiment("Probe tolerances");
  const json contains_pong = {
      {"type", "probe"},
      {"name", "has-pong"},
      {"provider", {{"type", "process"}, {"path", "sh"}, {"arguments", {"-c", "case \"$1\" in *pong*) exit 0;; esac; exit 1", "sh"}}}}};
  const json echo = {{"type", "process"}, {"path", "echo"}, {"arguments", {"ping", "pong"}}};
  const json echo_other = {{"type", "process"}, {"path", "echo"}, {"arguments", {"nothing"}}};
  e["steady-state-hypothesis"] = {{"title", "pong"}, {"probes", {probe("says-pong", echo, contains_pong)}}};
  e["method"] = json::array();
  CliResult r = run(e);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(journal()["steady_states"]["before"]["probes"][0]["tolerance_met"].get<bool>());

  e["steady-state-hypothesis"]["probes"] = {probe("says-nothing", echo_other, contains_pong)};
  r = run(e);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(journal()["steady_states"]["before"]["probes"][0]["tolerance_met"].get<bool>());
  EXPECT_NE(r.err.find("the tolerance probe has-pong answered"), std::string::npos) << r.err;
}

TEST_F(FaultlineProviderTest, TheRuntimeBlockSetsStrategiesAndFlagsWin) {
  json e = experiment("Runtime block");
  e["method"] = {action("latency", faultline_call("add_toxic", {{"proxy", "db"}, {"name", "lag"}, {"type", "latency"}}))};
  e["rollbacks"] = {action("undo", faultline_call("remove_toxic", {{"proxy", "db"}, {"toxic", "lag"}}))};
  e["runtime"] = {{"rollbacks", {{"strategy", "never"}}}};
  ASSERT_EQ(run(e).exit_code, 0);
  EXPECT_TRUE(journal()["rollbacks"].empty());
  EXPECT_EQ(toxics().size(), 1u) << "strategy never: the toxic stays";

  server_.api().post("/reset", "");
  ASSERT_EQ(run(e, {"--rollback-strategy", "always"}).exit_code, 0);
  EXPECT_EQ(journal()["rollbacks"].size(), 1u) << "the flag wins over the block";
  EXPECT_TRUE(toxics().empty());

  e["runtime"] = {{"hypothesis", {{"strategy", "sometimes"}}}};
  const CliResult r = run(e);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("runtime.hypothesis.strategy \"sometimes\" (allowed: default, before-method-only"), std::string::npos) << r.err;
}

TEST_F(FaultlineProviderTest, ValidateReportsUnknownKeysWithTheirPaths) {
  json e = experiment("Typos everywhere");
  e["metod"] = json::array();
  json p = enabled_probe();
  p["tolerence"] = true;
  p["pauses"] = {{"befor", 1}};
  e["steady-state-hypothesis"] = {{"title", "t"}, {"probes", {p}}};
  json h = action("get", {{"type", "http"}, {"url", "http://127.0.0.1:1/"}, {"timout", 3}});
  e["method"] = {h, action("load", faultline_call("load", {{"duration", 1}}))};
  const std::string path = (dir_ / "typos.json").string();
  std::ofstream(path) << e.dump(2);
  const CliResult r = run_cli({"validate", path});
  EXPECT_EQ(r.exit_code, 1);
  for (const char* expected : {": metod: unknown key (allowed: version, title",
                               "steady-state-hypothesis.probes[0].tolerence: unknown key",
                               "steady-state-hypothesis.probes[0].pauses.befor: unknown key (allowed: before, after)",
                               "method[0].provider.timout: unknown key (allowed: type, url, method",
                               "method[1].provider.arguments.targets: required by load"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
}

}  // namespace
}  // namespace faultline::test
