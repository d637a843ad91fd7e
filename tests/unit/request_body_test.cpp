#include <gtest/gtest.h>

#include "json/RequestBody.h"
#include "model/ApiError.h"

namespace faultline::json {
namespace {

std::string error_of(const std::string& body) {
  try {
    parse_request_body(body);
  } catch (const BadRequestBody& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RequestBody, EmptyOrBlankIsEof) {
  EXPECT_EQ(error_of(""), "bad request body: EOF");
  EXPECT_EQ(error_of("  \n"), "bad request body: EOF");
}

TEST(RequestBody, TruncatedIsUnexpectedEof) {
  EXPECT_EQ(error_of(R"({"name":"a")"), "bad request body: unexpected EOF");
  EXPECT_EQ(error_of(R"({"name":)"), "bad request body: unexpected EOF");
}

TEST(RequestBody, SyntaxErrorsNameTheCharacter) {
  EXPECT_EQ(error_of("{bad"), "bad request body: invalid character 'b' looking for beginning of object key string");
  EXPECT_EQ(error_of("xyz"), "bad request body: invalid character 'x' looking for beginning of value");
}

TEST(RequestBody, OnlyTheFirstValueCounts) {
  Value v = parse_request_body(R"({"name":"a"} trailing garbage)");
  EXPECT_EQ(v["name"], "a");
}

TEST(RequestBody, KeysMatchInAnyCaseAndTheLastWins) {
  Value v = parse_request_body(R"({"NAME":"first","name":"second"})");
  EXPECT_EQ(read_string(v, "name", "Proxy.name"), "second");
  Value w = parse_request_body(R"({"Enabled":false})");
  EXPECT_EQ(read_bool(w, "enabled", "Proxy.enabled"), false);
}

TEST(RequestBody, NullMeansAbsent) {
  Value v = parse_request_body(R"({"name":null,"enabled":null})");
  EXPECT_FALSE(read_string(v, "name", "Proxy.name").has_value());
  EXPECT_FALSE(read_bool(v, "enabled", "Proxy.enabled").has_value());
}

TEST(RequestBody, WrongTypesGiveGoStyleMessages) {
  Value v = parse_request_body(R"({"enabled":"yes","latency":1.5,"big":1e40,"t":"0.5"})");
  try {
    read_bool(v, "enabled", "Proxy.enabled");
    FAIL();
  } catch (const BadRequestBody& e) {
    EXPECT_STREQ(e.what(), "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool");
  }
  try {
    read_int64(v, "latency", "LatencyToxic.attributes.latency");
    FAIL();
  } catch (const BadRequestBody& e) {
    EXPECT_STREQ(e.what(),
                 "bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64");
  }
  EXPECT_THROW(read_float32(v, "big", "ToxicWrapper.toxicity"), BadRequestBody);
  EXPECT_THROW(read_float32(v, "t", "ToxicWrapper.toxicity"), BadRequestBody);
}

TEST(RequestBody, WholeBodyOfTheWrongKind) {
  try {
    expect_object(parse_request_body("[1,2]"), "toxiproxy.Proxy");
    FAIL();
  } catch (const BadRequestBody& e) {
    EXPECT_STREQ(e.what(), "bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy");
  }
}

}  // namespace faultline::json
