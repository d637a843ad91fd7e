#include <gtest/gtest.h>

#include "model/Direction.h"
#include "model/ToxicType.h"

#include <optional>

namespace faultline {

TEST(Direction, ParsedInAnyLetterCase) {
  EXPECT_EQ(parse_direction("upstream"), Direction::Upstream);
  EXPECT_EQ(parse_direction("UpStream"), Direction::Upstream);
  EXPECT_EQ(parse_direction("DOWNSTREAM"), Direction::Downstream);
  EXPECT_FALSE(parse_direction("").has_value());
  EXPECT_FALSE(parse_direction("sideways").has_value());
}

TEST(ToxicType, EveryToxiproxyTypeWithItsAttributesInOrder) {
  // Toxiproxy's attributes, in its order; faultline's extensions (shown only when set) after them.
  auto attrs = [](const char* name) {
    std::string joined;
    for (const auto& a : find_toxic_type(name)->attributes)
      if (!a.extension) joined += a.name + ",";
    return joined;
  };
  EXPECT_EQ(attrs("latency"), "latency,jitter,");
  EXPECT_EQ(attrs("bandwidth"), "rate,");
  EXPECT_EQ(attrs("slow_close"), "delay,");
  EXPECT_EQ(attrs("timeout"), "timeout,");
  EXPECT_EQ(attrs("reset_peer"), "timeout,");
  EXPECT_EQ(attrs("slicer"), "average_size,size_variation,delay,");
  EXPECT_EQ(attrs("limit_data"), "bytes,");
  EXPECT_EQ(attrs("noop"), "");
  EXPECT_EQ(find_toxic_type("down"), nullptr);
  EXPECT_EQ(find_toxic_type("Latency"), nullptr) << "type names are case-sensitive";
}

namespace {
std::optional<std::string> check(const char* type, const char* attribute, int64_t value) {
  return find_toxic_type(type)->find_attribute(attribute)->check(type, AttributeValue(value));
}
}  // namespace

TEST(ToxicType, NegativeRatesAndSlicesAreRefusedWithTheAttributeNamed) {
  auto problem = check("bandwidth", "rate", -5);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("rate"), std::string::npos);
  EXPECT_NE(problem->find("-5"), std::string::npos);
  EXPECT_TRUE(check("slicer", "average_size", -1).has_value());
  EXPECT_TRUE(check("slicer", "delay", -1).has_value());
  EXPECT_FALSE(check("bandwidth", "rate", 0).has_value()) << "0 holds the direction (D7)";
  EXPECT_FALSE(check("latency", "latency", -10).has_value()) << "negative latency means none";
}

}  // namespace faultline
