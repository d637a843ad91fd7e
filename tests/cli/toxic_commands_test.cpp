// toxic add / update / remove / list with the reference's flags and messages.
#include "CliFixture.h"

namespace faultline::test {

TEST_F(CliTest, ToxicAddDefaultsToDownstreamAndSendsNumbersAsNumbers) {
  create("redis");
  const auto result = cli({"toxic", "add", "redis", "-t", "latency", "-a", "latency=1000", "-a", "jitter=50"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Added downstream latency toxic 'latency_downstream' on proxy 'redis'\n");
  const auto toxic = toxic_json("redis", "latency_downstream");
  EXPECT_EQ(toxic["attributes"]["latency"], 1000);
  EXPECT_EQ(toxic["attributes"]["jitter"], 50);
  EXPECT_EQ(toxic["toxicity"], 1);
}

TEST_F(CliTest, ToxicAddUpstreamWithNameAndToxicity) {
  create("redis");
  const auto result = cli({"t", "a", "redis", "--type", "timeout", "--toxicName", "cut", "--upstream", "--toxicity", "0.25",
                           "--attribute", "timeout=100"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Added upstream timeout toxic 'cut' on proxy 'redis'\n");
  const auto toxic = toxic_json("redis", "cut");
  EXPECT_EQ(toxic["stream"], "upstream");
  EXPECT_DOUBLE_EQ(toxic["toxicity"].get<double>(), 0.25);
  EXPECT_EQ(toxic["attributes"]["timeout"], 100);
}

TEST_F(CliTest, ToxicAddExplicitDownstreamAndJson) {
  create("redis");
  const auto result = cli({"toxic", "add", "redis", "-t", "bandwidth", "-d", "-a", "rate=100", "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["name"], "bandwidth_downstream");
  EXPECT_EQ(json["attributes"]["rate"], 100);
}

TEST_F(CliTest, ToxicAddRejectsBadInputBeforeOrFromTheServer) {
  create("redis");
  auto result = cli({"toxic", "add", "redis", "-t", "bogus"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "Failed to add toxic: failed to add toxic to proxy redis: AddToxic: HTTP 400: invalid toxic type\n");

  result = cli({"toxic", "add", "redis", "-t", "latency", "--tox", "1.5"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("between 0 and 1"), std::string::npos) << result.err;

  result = cli({"toxic", "add", "redis", "-t", "latency", "-a", "novalue"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("key=value"), std::string::npos) << result.err;

  result = cli({"toxic", "add", "redis", "-a", "latency=5"});  // --type is required
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--type"), std::string::npos) << result.err;

  result = cli({"toxic", "add", "redis", "-t", "latency", "-u", "-d"});
  EXPECT_EQ(result.exit_code, 1);

  result = cli({"toxic", "add", "nosuch", "-t", "latency"});
  EXPECT_EQ(result.err, "Failed to retrieve proxy nosuch: HTTP 404: proxy not found\n");
  EXPECT_TRUE(nlohmann::json::parse(server.api().get("/proxies/redis/toxics").body).empty());
}

TEST_F(CliTest, ToxicAddWithAnExistingNameIsAConflict) {
  create("redis");
  ASSERT_EQ(cli({"toxic", "add", "redis", "-t", "latency"}).exit_code, 0);
  const auto result = cli({"toxic", "add", "redis", "-t", "latency"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            "Failed to add toxic: failed to add toxic to proxy redis: AddToxic: HTTP 409: toxic already exists\n");
}

TEST_F(CliTest, ToxicUpdateChangesOnlyWhatIsGiven) {
  create("redis");
  ASSERT_EQ(cli({"toxic", "add", "redis", "-t", "latency", "-a", "latency=1000", "-a", "jitter=50"}).exit_code, 0);
  auto result = cli({"toxic", "update", "redis", "-n", "latency_downstream", "-a", "latency=2000"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Updated toxic 'latency_downstream' on proxy 'redis'\n");
  auto toxic = toxic_json("redis", "latency_downstream");
  EXPECT_EQ(toxic["attributes"]["latency"], 2000);
  EXPECT_EQ(toxic["attributes"]["jitter"], 50);

  result = cli({"t", "u", "redis", "-n", "latency_downstream", "--tox", "0.5"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_DOUBLE_EQ(toxic_json("redis", "latency_downstream")["toxicity"].get<double>(), 0.5);

  result = cli({"toxic", "update", "redis", "-n", "nosuch", "-a", "latency=1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "Failed to update toxic: UpdateToxic: HTTP 404: toxic not found\n");
}

TEST_F(CliTest, ToxicRemoveAndItsAliases) {
  create("redis");
  for (const char* alias : {"remove", "r", "delete", "d"}) {
    ASSERT_EQ(cli({"toxic", "add", "redis", "-t", "noop", "-n", "n"}).exit_code, 0);
    const auto result = cli({"toxic", alias, "redis", "-n", "n"});
    EXPECT_EQ(result.exit_code, 0) << alias << ": " << result.err;
    EXPECT_EQ(result.out, "Removed toxic 'n' on proxy 'redis'\n");
  }
  const auto result = cli({"toxic", "remove", "redis", "-n", "n"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "Failed to remove toxic: RemoveToxic: HTTP 404: toxic not found\n");
}

TEST_F(CliTest, ToxicListPlainAndJson) {
  create("redis");
  ASSERT_EQ(cli({"latency", "redis", "100"}).exit_code, 0);
  auto result = cli({"toxic", "list", "redis"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out,
            "latency_downstream\ttype=latency\tstream=downstream\ttoxicity=1.00\tattributes=[\tjitter=0\tlatency=100\t]\n");
  result = cli({"toxic", "ls", "redis", "--json"});
  EXPECT_EQ(nlohmann::json::parse(result.out), nlohmann::json::parse(server.api().get("/proxies/redis/toxics").body));
}

TEST_F(CliTest, ToxicWithoutASubcommandIsAnError) {
  const auto result = cli({"toxic"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(lines_of(result.err).size(), 1u);
}

}  // namespace faultline::test
