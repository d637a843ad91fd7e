#include <gtest/gtest.h>

#include "config/ConfigFile.h"

namespace faultline {
namespace {

std::string error_of(const std::string& text, bool yaml = false) {
  try {
    parse_config_text(text, "test.cfg", yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigFile, JsonWithToxics) {
  auto c = parse_config_text(R"([{"name":"redis","listen":"127.0.0.1:26379","upstream":"localhost:6379",
      "toxics":[{"type":"latency","attributes":{"latency":100}},{"name":"cut","type":"timeout","stream":"upstream"}]}])",
                             "x.json", false);
  ASSERT_EQ(c.proxies.size(), 1u);
  EXPECT_EQ(c.proxies[0].spec.upstream, "localhost:6379");
  EXPECT_TRUE(c.proxies[0].spec.enabled);
  ASSERT_EQ(c.proxies[0].toxics.size(), 2u);
  EXPECT_EQ(c.proxies[0].toxics[0].name, "latency_downstream");
  EXPECT_EQ(c.proxies[0].toxics[0].integer("latency"), 100);
  EXPECT_EQ(c.proxies[0].toxics[1].direction, Direction::Upstream);
}

TEST(ConfigFile, YamlIsTheSameDocument) {
  auto c = parse_config_text(R"(
- name: web
  listen: "127.0.0.1:8080"
  upstream: 127.0.0.1:80
  enabled: false
  toxics:
    - type: bandwidth
      attributes: {rate: 100}
)",
                             "x.yaml", true);
  ASSERT_EQ(c.proxies.size(), 1u);
  EXPECT_FALSE(c.proxies[0].spec.enabled);
  EXPECT_EQ(c.proxies[0].toxics[0].integer("rate"), 100);
}

TEST(ConfigFile, ErrorsNameEntryFieldValueAndWhatIsAllowed) {
  const std::string e = error_of(R"([{"name":"a","listen":"127.0.0.1:1","upstream":"127.0.0.1:2"},
                                     {"name":"b","listen":"127.0.0.1","upstream":"127.0.0.1:2"}])");
  EXPECT_NE(e.find("proxy #2"), std::string::npos) << e;
  EXPECT_NE(e.find("\"b\""), std::string::npos) << e;
  EXPECT_NE(e.find("listen"), std::string::npos) << e;
  EXPECT_NE(e.find("127.0.0.1"), std::string::npos) << e;
  EXPECT_NE(e.find("missing port"), std::string::npos) << e;

  EXPECT_NE(error_of(R"([{"name":"a","listen":"127.0.0.1:1"}])").find("upstream"), std::string::npos);
  EXPECT_NE(error_of(R"({"name":"a"})").find("list"), std::string::npos);
  EXPECT_NE(error_of(R"([{"name":"a","listen":"127.0.0.1:1","upstream":"x:1","toxics":[{"type":"bogus"}]}])").find("latency"),
            std::string::npos) << "the allowed types are listed";
  EXPECT_NE(error_of(R"([{"name":"a","listen":"127.0.0.1:1","upstream":"x:1","toxics":[{"type":"bandwidth","attributes":{"rate":-1}}]}])")
                .find("rate"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"name":"a","listen":"127.0.0.1:1","upstream":"x:1"},{"name":"a","listen":"127.0.0.1:2","upstream":"x:1"}])")
                .find("same name"),
            std::string::npos);
  EXPECT_NE(error_of("[{", false).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("- [", true).find("not valid YAML"), std::string::npos);
}

TEST(ConfigFile, UnknownKeysWarnButLoad) {
  auto c = parse_config_text(R"([{"name":"a","listen":"127.0.0.1:1","upstream":"x:1","upsteam":"typo"}])", "x.json", false);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("upsteam"), std::string::npos);
}

}  // namespace faultline

namespace faultline {

// YAML scalars are typed by a hand-written JSON-number check: the std::regex
// it replaced overflowed the stack (and killed the server) on a long one.
TEST(ConfigFile, YamlNumbersAreTypedAndAHugeScalarIsAClearError) {
  auto c = parse_config_text("- {name: a, listen: '127.0.0.1:1', upstream: '127.0.0.1:2', toxics: "
                             "[{type: latency, toxicity: 5e-1, attributes: {latency: 100, jitter: 0}}]}",
                             "x.yaml", true);
  EXPECT_EQ(c.proxies[0].toxics[0].toxicity, 0.5);
  EXPECT_EQ(c.proxies[0].toxics[0].integer("latency"), 100);
  for (const char* not_a_number : {"0x10", "1_000", ".5", "1.", "1e", "--1", "01", "nan"})
    EXPECT_NE(error_of(std::string("- {name: a, listen: '127.0.0.1:1', upstream: '127.0.0.1:2', toxics: "
                                   "[{type: latency, attributes: {latency: ") + not_a_number + "}}]}", true),
              "")
        << not_a_number << " stays a string, which latency refuses";
  const std::string huge = "- {name: a, listen: '127.0.0.1:1', upstream: '127.0.0.1:2', enabled: " + std::string(300000, '1') + "}";
  const std::string error = error_of(huge, true);
  EXPECT_NE(error.find("(300000 characters) is out of range"), std::string::npos) << error.substr(0, 300);
  EXPECT_LT(error.size(), 300u) << "the value is cut in the message";
}

}  // namespace faultline
