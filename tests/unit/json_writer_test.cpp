#include <gtest/gtest.h>

#include "json/JsonWriter.h"

namespace faultline::json {

TEST(JsonWriter, Float32InShortestFormLikeGo) {
  auto f = [](float v) {
    std::string s;
    append_float32(s, v);
    return s;
  };
  EXPECT_EQ(f(1.0f), "1");
  EXPECT_EQ(f(0.0f), "0");
  EXPECT_EQ(f(0.5f), "0.5");
  EXPECT_EQ(f(0.3f), "0.3");
  EXPECT_EQ(f(0.25f), "0.25");
  EXPECT_EQ(f(5.0f), "5");
  EXPECT_EQ(f(-3.0f), "-3");
  EXPECT_EQ(f(100000.0f), "100000");
}

TEST(JsonWriter, StringsEscapedLikeGo) {
  std::string s;
  append_string(s, "a\"b\\c\n<tag>&\x01");
  EXPECT_EQ(s, R"("a\"b\\c\n\u003ctag\u003e\u0026\u0001")");
  s.clear();
  append_string(s, "caf\xc3\xa9 \xff");
  EXPECT_EQ(s, "\"caf\xc3\xa9 \\ufffd\"");
}

TEST(JsonWriter, ObjectKeepsKeyOrder) {
  std::string s;
  {
    ObjectWriter o(s);
    o.field("name", "x");
    o.field("enabled", true);
    o.field("n", int64_t{-5});
  }
  EXPECT_EQ(s, R"({"name":"x","enabled":true,"n":-5})");
}

}  // namespace faultline::json
