// In-process unit tests of the CLI's parsing and formatting helpers.
#include <gtest/gtest.h>

#include "cli/ApiModel.h"
#include "cli/Output.h"
#include "cli/Units.h"

namespace faultline::cli {

TEST(Units, DurationsInEveryUnit) {
  EXPECT_EQ(parse_duration_ms("250"), 250);
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("2s"), 2000);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1500);
  EXPECT_EQ(parse_duration_ms("1m"), 60000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("0"), 0);
}

TEST(Units, BadDurationsSayWhatIsAccepted) {
  for (const char* text : {"", "fast", "-5", "5x", "s", "5 s", "1..2s", "5sec"}) {
    EXPECT_THROW(parse_duration_ms(text), UnitError) << text;
  }
  try {
    parse_duration_ms("5x");
  } catch (const UnitError& error) {
    EXPECT_NE(std::string(error.what()).find("250ms"), std::string::npos);
  }
}

TEST(Units, RatesInKilobytesPerSecond) {
  EXPECT_EQ(parse_rate_kbps("100"), 100);
  EXPECT_EQ(parse_rate_kbps("100kB/s"), 100);
  EXPECT_EQ(parse_rate_kbps("100KB/s"), 100);
  EXPECT_EQ(parse_rate_kbps("2MB/s"), 2000);
  EXPECT_EQ(parse_rate_kbps("1GB/s"), 1000000);
  EXPECT_EQ(parse_rate_kbps("500000B/s"), 500);
  EXPECT_EQ(parse_rate_kbps("1500B/s"), 2);  // rounded to the nearest KB/s
  EXPECT_EQ(parse_rate_kbps("0"), 0);
  EXPECT_EQ(parse_rate_kbps("0.5MB/s"), 500);
}

TEST(Units, BadRates) {
  for (const char* text : {"", "fast", "-1", "10kb/s", "10Mbps", "100B/s", "1 MB/s"}) {
    EXPECT_THROW(parse_rate_kbps(text), UnitError) << text;
  }
}

TEST(Units, NumbersForAttributes) {
  double value = 0;
  EXPECT_TRUE(parse_number("100", value));
  EXPECT_EQ(value, 100);
  EXPECT_TRUE(parse_number("0.25", value));
  EXPECT_EQ(value, 0.25);
  EXPECT_TRUE(parse_number("-3", value));
  EXPECT_FALSE(parse_number("", value));
  EXPECT_FALSE(parse_number("10ms", value));
  EXPECT_FALSE(parse_number("fast", value));
}

TEST(ApiModel, ParsesReferenceAndFaultlineShapes) {
  const auto proxies = parse_proxy_map(
      R"({"b":{"name":"b","listen":"l","upstream":"u","enabled":false,"Logger":{},"toxics":[]},)"
      R"("a":{"name":"a","listen":"l","upstream":"u","enabled":true,"toxics":[{"attributes":{"latency":1.0e3},)"
      R"("name":"x","type":"latency","stream":"UpStream","toxicity":0.25}]}})");
  ASSERT_EQ(proxies.size(), 2u);
  EXPECT_EQ(proxies[0].name, "a");
  ASSERT_EQ(proxies[0].toxics.size(), 1u);
  EXPECT_EQ(proxies[0].toxics[0].stream, "UpStream");
  EXPECT_DOUBLE_EQ(proxies[0].toxics[0].toxicity, 0.25);
  EXPECT_EQ(attribute_pairs(proxies[0].toxics[0].attributes), std::vector<std::string>{"latency=1000"});
  EXPECT_FALSE(proxies[1].enabled);
  EXPECT_FALSE(proxies[1].connections.has_value());
}

TEST(ApiModel, ValuesPrintAsPeopleReadThem) {
  EXPECT_EQ(format_value(nlohmann::json(1000)), "1000");
  EXPECT_EQ(format_value(nlohmann::json(1000.0)), "1000");
  EXPECT_EQ(format_value(nlohmann::json(0.5)), "0.5");
  EXPECT_EQ(format_value(nlohmann::json("text")), "text");
  EXPECT_EQ(format_value(nlohmann::json(true)), "true");
}

TEST(Table, AlignsColumnsAndKeepsColourOutOfTheWidths) {
  Table table({"A", "BB"});
  table.add_row({{"long-cell", Colour::Green}, {"x"}});
  table.add_row({{"s"}, {"y", Colour::Red}});
  EXPECT_EQ(table.render(false), "A          BB\nlong-cell  x\ns          y\n");
  const auto coloured = table.render(true);
  EXPECT_NE(coloured.find("\x1b[32mlong-cell\x1b[0m  x"), std::string::npos) << coloured;
}

}  // namespace faultline::cli
