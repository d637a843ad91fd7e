// Which server the CLI talks to (flag, FAULTLINE_URL, TOXIPROXY_URL), what
// it says when none answers, and the commands that need no server.
#include "CliFixture.h"
#include "Sockets.h"

namespace faultline::test {

TEST_F(CliTest, HostFlagAlsoWorksAfterTheCommand) {
  create("redis");
  const auto result = run_cli({"list", "-h", url()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("redis\t", 0), 0u);
  EXPECT_EQ(run_cli({"inspect", "redis", "--host", url()}).exit_code, 0);
}

TEST_F(CliTest, ToxiproxyUrlIsUsedWhenNothingElseIsSet) {
  create("redis");
  const auto result = run_cli({"list"}, {{{"TOXIPROXY_URL", url()}}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("redis\t", 0), 0u);
}

TEST_F(CliTest, FaultlineUrlWinsOverToxiproxyUrlAndTheFlagWinsOverBoth) {
  create("redis");
  const std::string dead = api_url(free_port());
  auto result = run_cli({"list"}, {{{"FAULTLINE_URL", url()}, {"TOXIPROXY_URL", dead}}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  result = run_cli({"-h", url(), "list"}, {{{"FAULTLINE_URL", dead}, {"TOXIPROXY_URL", dead}}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  result = run_cli({"list"}, {{{"FAULTLINE_URL", dead}, {"TOXIPROXY_URL", url()}}});
  EXPECT_EQ(result.exit_code, 1);
}

TEST(CliConnection, UnreachableServerPrintsTheHint) {
  const std::string dead = api_url(free_port());
  const auto result = run_cli({"-h", dead, "list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "cannot reach faultline at " + dead +
                            ": connection refused (is faultline-server running? set --host or FAULTLINE_URL)\n");
}

TEST(CliConnection, DefaultUrlIsLocalhost8474) {
  // Whether or not something listens there, the message names the default.
  const auto result = run_cli({"inspect", "faultline-cli-test-no-such-proxy"});
  EXPECT_EQ(result.exit_code, 1);
  if (result.err.rfind("cannot reach", 0) == 0) {
    EXPECT_EQ(result.err,
              "cannot reach faultline at http://localhost:8474: connection refused (is faultline-server running? set "
              "--host or FAULTLINE_URL)\n");
  }
}

TEST(CliConnection, HostWithoutSchemeMeansHttpAndOtherSchemesAreRefused) {
  ServerProcess server;
  const auto plain = run_cli({"-h", "127.0.0.1:" + std::to_string(server.api_port()), "list"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  const auto other = run_cli({"-h", "ftp://127.0.0.1:1", "list"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("unsupported URL"), std::string::npos) << other.err;
  // https against a plain-http API: the handshake fails, and the message says where to look.
  const auto tls = run_cli({"-h", "https://127.0.0.1:" + std::to_string(server.api_port()), "list"});
  EXPECT_EQ(tls.exit_code, 1);
  EXPECT_NE(tls.err.find("TLS handshake failed"), std::string::npos) << tls.err;
}

TEST(CliOffline, HelpOnEveryCommandHasAnExample) {
  const std::vector<std::vector<std::string>> commands = {
      {},           {"list"},   {"inspect"}, {"create"},     {"toggle"},    {"delete"},      {"toxic"},
      {"toxic", "add"}, {"toxic", "update"}, {"toxic", "remove"}, {"toxic", "list"}, {"down"}, {"up"},
      {"latency"},  {"timeout"}, {"reset-peer"}, {"bandwidth"}, {"clear"}, {"status"}, {"completion"}};
  for (auto args : commands) {
    args.push_back("--help");
    const auto result = run_cli(args);
    EXPECT_EQ(result.exit_code, 0) << args[0];
    EXPECT_NE(result.out.find("Example"), std::string::npos) << args[0] << "\n" << result.out;
    EXPECT_NE(result.out.find("faultline "), std::string::npos) << args[0];
  }
}

TEST(CliOffline, HelpShowsHostAsDashH) {
  const auto result = run_cli({"--help"});
  EXPECT_NE(result.out.find("-h,--host"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("list, l, li, ls"), std::string::npos) << result.out;
}

TEST(CliOffline, VersionPrintsTheVersion) {
  const auto result = run_cli({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, std::string("faultline version ") + FAULTLINE_VERSION + "\n");
}

TEST(CliOffline, UnknownCommandIsOneLineAndExitOne) {
  const auto result = run_cli({"frobnicate"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
}

TEST(CliOffline, CompletionScriptsForBashAndZsh) {
  const auto bash = run_cli({"completion", "bash"});
  EXPECT_EQ(bash.exit_code, 0);
  EXPECT_NE(bash.out.find("complete -F _faultline faultline"), std::string::npos);
  EXPECT_NE(bash.out.find("reset-peer"), std::string::npos);
  const auto zsh = run_cli({"completion", "zsh"});
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_EQ(zsh.out.rfind("#compdef faultline", 0), 0u);
  EXPECT_EQ(run_cli({"completion", "fish"}).exit_code, 1);
}

TEST(CliOffline, BashCompletionScriptIsValidBash) {
  const auto bash = run_cli({"completion", "bash"});
  FILE* shell = ::popen("bash -n 2>&1", "w");
  ASSERT_NE(shell, nullptr);
  std::fputs(bash.out.c_str(), shell);
  EXPECT_EQ(::pclose(shell), 0);
}

}  // namespace faultline::test
