// `faultline report`: the summary and the HTML page made from journals,
// ours (from a real run) and a hand-written one in the toolkit's shape with
// fields missing, as older tools write them.
#include <gtest/gtest.h>
#include <unistd.h>

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

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-report-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

TEST_F(ReportTest, SummaryAndHtmlOfARealRun) {
  TestUpstream echo;
  ServerProcess server;
  server.create_proxy("db", echo.port());
  const json probe = {{"type", "probe"},
                      {"name", "db <enabled>"},
                      {"provider", {{"type", "faultline"}, {"func", "get_proxy"}, {"arguments", {{"proxy", "db"}}}}},
                      {"tolerance", {{"type", "jsonpath"}, {"path", "$.enabled"}, {"expect", true}}}};
  const json e = {
      {"title", "Disabling db <script>alert(1)</script>"},
      {"configuration", {{"faultline_url", api_url(server.api_port())}}},
      {"steady-state-hypothesis", {{"title", "db is enabled"}, {"probes", {probe}}}},
      {"method", {{{"type", "action"}, {"name", "disable"}, {"provider", {{"type", "faultline"}, {"func", "disable_proxy"}, {"arguments", {{"proxy", "db"}}}}}}}},
      {"rollbacks", {{{"type", "action"}, {"name", "enable"}, {"provider", {{"type", "faultline"}, {"func", "enable_proxy"}, {"arguments", {{"proxy", "db"}}}}}}}}};
  std::ofstream(path("e.json")) << e.dump();
  ASSERT_EQ(run_cli({"run", path("e.json"), "--journal-path", path("journal.json")}).exit_code, 1);

  const CliResult r = run_cli({"report", path("journal.json"), "--html", path("report.html")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* expected : {"Disabling db <script>alert(1)</script>\n", "  status: failed, deviated: yes, ", "  steady state before: met\n",
                               "    \u2713 probe db <enabled> ", "  method: 1 activities, 0 failed\n", "  steady state after: not met\n",
                               "    \u2717 probe db <enabled> ", "  rollbacks: 1\n", "    \u2713 action enable "})
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;

  const std::string html = read("report.html");
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "names from the journal are escaped";
  EXPECT_NE(html.find("Disabling db &lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos) << "the timeline";
  EXPECT_NE(html.find("not met"), std::string::npos);
  EXPECT_NE(html.find("faultline disable_proxy"), std::string::npos) << "each activity's provider";
  EXPECT_NE(html.find("&quot;enabled&quot;: false"), std::string::npos) << "outputs are in the page";
}

TEST_F(ReportTest, ToleratesOldOrPartialJournalsAndRefusesNonJournals) {
  const json old = {{"status", "completed"},
                    {"experiment", {{"title", "From an old toolkit"}}},
                    {"start", "2019-05-02T10:00:00"},
                    {"run", {{{"activity", {{"name", "a"}, {"type", "action"}}}, {"status", "succeeded"}, {"duration", "n/a"}}}},
                    {"steady_states", {{"before", nullptr}}},
                    {"rollbacks", 7}};
  std::ofstream(path("old.json")) << old.dump();
  std::ofstream(path("ours.json")) << json{{"status", "interrupted"}, {"deviated", "maybe"}}.dump();
  CliResult r = run_cli({"report", path("old.json"), path("ours.json"), "--html", path("both.html")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("From an old toolkit\n  status: completed, deviated: no"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(untitled experiment)\n  status: interrupted"), std::string::npos) << r.out;
  EXPECT_NE(read("both.html").find("From an old toolkit"), std::string::npos);

  std::ofstream(path("garbage.json")) << "[1, 2";
  r = run_cli({"report", path("garbage.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("garbage.json: not a journal (a JSON object)"), std::string::npos) << r.err;
  r = run_cli({"report", path("missing.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.json: cannot be read"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace faultline::test
