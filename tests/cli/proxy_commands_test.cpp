// The toxiproxy-cli proxy commands: words, aliases, messages, the plain
// formats scripts parse, --json, and errors.
#include "CliFixture.h"

namespace faultline::test {

TEST_F(CliTest, CreatePrintsTheReferenceMessageAndTheProxyListens) {
  const auto result = cli({"create", "redis", "-l", "127.0.0.1:0", "-u", upstream()});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "Created new proxy redis\n");
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(proxy_json("redis")["enabled"].get<bool>());
  EXPECT_EQ(proxy_json("redis")["upstream"], upstream());
}

TEST_F(CliTest, CreateAliasesAndLongFlags) {
  EXPECT_EQ(cli({"c", "a1", "--listen", "127.0.0.1:0", "--upstream", upstream()}).out, "Created new proxy a1\n");
  EXPECT_EQ(cli({"new", "a2", "-l", "127.0.0.1:0", "-u", upstream()}).out, "Created new proxy a2\n");
}

TEST_F(CliTest, CreatingAnExistingProxyFailsWithTheServersError) {
  create("redis");
  const auto result = cli({"create", "redis", "-l", "127.0.0.1:0", "-u", upstream()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "Failed to create proxy: Create: HTTP 409: proxy already exists\n");
}

TEST_F(CliTest, ListPlainFormatIsTabSeparatedAndSortedByName) {
  create("zeta");
  create("alpha");
  ASSERT_EQ(cli({"latency", "alpha", "100"}).exit_code, 0);
  const auto result = cli({"list"});
  EXPECT_EQ(result.exit_code, 0);
  const auto alpha = proxy_json("alpha");
  const auto zeta = proxy_json("zeta");
  EXPECT_EQ(result.out, "alpha\t" + alpha["listen"].get<std::string>() + "\t" + upstream() + "\tenabled\t1\n" +
                            "zeta\t" + zeta["listen"].get<std::string>() + "\t" + upstream() + "\tenabled\t0\n");
}

TEST_F(CliTest, ListAliasesAllWork) {
  create("redis");
  const auto expected = cli({"list"}).out;
  for (const char* alias : {"l", "li", "ls"}) EXPECT_EQ(cli({alias}).out, expected) << alias;
}

TEST_F(CliTest, ListOfNothingPrintsNothingForScripts) {
  const auto result = cli({"list"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
}

TEST_F(CliTest, ListJsonIsTheApisJson) {
  create("redis");
  const auto result = cli({"list", "--json"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(result.out), nlohmann::json::parse(server.api().get("/proxies").body));
  // Global flag before the command works too.
  EXPECT_EQ(nlohmann::json::parse(cli({"--json", "ls"}).out), nlohmann::json::parse(result.out));
}

TEST_F(CliTest, ListOnATerminalIsAnAlignedTable) {
  create("redis");
  create("a-much-longer-name");
  const auto result = cli_terminal({"list"}, {{"NO_COLOR", "1"}});
  EXPECT_EQ(result.exit_code, 0);
  const auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_EQ(lines[0].rfind("NAME", 0), 0u);
  // Every row's second column starts where the header's LISTEN does.
  const auto column = lines[0].find("LISTEN");
  EXPECT_EQ(lines[1].find("127.0.0.1:"), column);
  EXPECT_EQ(lines[2].find("127.0.0.1:"), column);
  EXPECT_EQ(result.out.find('\x1b'), std::string::npos) << "NO_COLOR must disable colour";
}

TEST_F(CliTest, ColourOnlyOnATerminal) {
  create("redis");
  EXPECT_NE(cli_terminal({"list"}).out.find("\x1b["), std::string::npos);
  EXPECT_EQ(cli({"list"}).out.find('\x1b'), std::string::npos);
  EXPECT_EQ(cli({"status"}).out.find('\x1b'), std::string::npos);
}

TEST_F(CliTest, InspectPlainFormatMatchesTheReference) {
  create("redis");
  ASSERT_EQ(cli({"toxic", "add", "redis", "-t", "latency", "-a", "latency=1000", "-a", "jitter=50"}).exit_code, 0);
  ASSERT_EQ(cli({"toxic", "add", "redis", "-t", "timeout", "-n", "cut", "-u", "--tox", "0.5"}).exit_code, 0);
  const auto result = cli({"inspect", "redis"});
  EXPECT_EQ(result.exit_code, 0);
  // Upstream toxics come first in the API's order.
  EXPECT_EQ(result.out,
            "cut\ttype=timeout\tstream=upstream\ttoxicity=0.50\tattributes=[\ttimeout=0\t]\n"
            "latency_downstream\ttype=latency\tstream=downstream\ttoxicity=1.00\tattributes=[\tjitter=50\tlatency=1000\t]\n");
  for (const char* alias : {"i", "ins"}) EXPECT_EQ(cli({alias, "redis"}).out, result.out) << alias;
}

TEST_F(CliTest, InspectJsonAndTerminalOutput) {
  create("redis");
  ASSERT_EQ(cli({"latency", "redis", "250ms"}).exit_code, 0);
  const auto json = cli({"inspect", "redis", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out), proxy_json("redis"));
  const auto table = cli_terminal({"inspect", "redis"}, {{"NO_COLOR", "1"}});
  EXPECT_NE(table.out.find("redis  enabled  listen 127.0.0.1:"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("latency_downstream  latency  downstream  1.00      jitter=0 latency=250"), std::string::npos)
      << table.out;
}

TEST_F(CliTest, InspectOfAMissingProxyIsOneLineOnStderrAndExitOne) {
  const auto result = cli({"inspect", "nosuch"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "Failed to retrieve proxy nosuch: HTTP 404: proxy not found\n");
}

TEST_F(CliTest, ToggleFlipsAndPrintsTheNewState) {
  create("mysql");
  auto result = cli({"toggle", "mysql"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "Proxy mysql is now disabled\n");
  EXPECT_FALSE(proxy_json("mysql")["enabled"].get<bool>());
  EXPECT_EQ(cli({"tog", "mysql"}).out, "Proxy mysql is now enabled\n");
  EXPECT_TRUE(proxy_json("mysql")["enabled"].get<bool>());
  EXPECT_EQ(cli({"toggle", "nosuch"}).err, "Failed to retrieve proxy nosuch: HTTP 404: proxy not found\n");
}

TEST_F(CliTest, DeleteRemovesTheProxy) {
  create("mysql");
  create("other");
  EXPECT_EQ(cli({"delete", "mysql"}).out, "Deleted proxy mysql\n");
  EXPECT_EQ(server.api().get("/proxies/mysql").status, 404);
  EXPECT_EQ(cli({"d", "other"}).out, "Deleted proxy other\n");
  const auto again = cli({"delete", "mysql"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "Failed to retrieve proxy mysql: HTTP 404: proxy not found\n");
}

TEST_F(CliTest, MissingArgumentsAreAUsageErrorOnOneLine) {
  const auto result = cli({"create", "redis", "-l", "127.0.0.1:0"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
  EXPECT_NE(result.err.find("--upstream"), std::string::npos) << result.err;
}

}  // namespace faultline::test
