#include <gtest/gtest.h>

#include "model/Direction.h"
#include "model/ToxicType.h"

namespace faultline {

TEST(Direction, ParsedInAnyLetterCase) {
  EXPECT_EQ(parse_direction("upstream"), Direction::Upstream);
  EXPECT_EQ(parse_direction("UpStream"), Direction::Upstream);
  EXPECT_EQ(parse_direction("DOWNSTREAM"), Direction::Downstream);
  EXPECT_FALSE(parse_direction("").has_value());
  EXPECT_FALSE(parse_direction("sideways").has_value());
}

TEST(ToxicType, EveryToxiproxyTypeWithItsAttributesInOrder) {
  auto attrs = [](const char* name) {
    std::string joined;
    for (const auto& a : toxic_type_info(*parse_toxic_kind(name)).attributes) joined += std::string(a.name) + ",";
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
  EXPECT_FALSE(parse_toxic_kind("down").has_value());
  EXPECT_FALSE(parse_toxic_kind("Latency").has_value()) << "type names are case-sensitive";
}

TEST(ToxicType, NegativeRatesAndSlicesAreRefusedWithTheAttributeNamed) {
  auto problem = check_toxic_attribute(ToxicKind::Bandwidth, "rate", -5);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("rate"), std::string::npos);
  EXPECT_NE(problem->find("-5"), std::string::npos);
  EXPECT_TRUE(check_toxic_attribute(ToxicKind::Slicer, "average_size", -1).has_value());
  EXPECT_TRUE(check_toxic_attribute(ToxicKind::Slicer, "delay", -1).has_value());
  EXPECT_FALSE(check_toxic_attribute(ToxicKind::Bandwidth, "rate", 0).has_value()) << "0 holds the direction (D7)";
  EXPECT_FALSE(check_toxic_attribute(ToxicKind::Latency, "latency", -10).has_value()) << "negative latency means none";
}

}  // namespace faultline
