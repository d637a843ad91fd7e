// The typed attribute schema: every registered attribute survives a
// decode / validate / encode round trip at the ends of its range and is
// refused just past them with a message naming type, attribute, value and
// range; the other attribute types (not yet used by a Toxiproxy toxic)
// decode, check and encode as documented; docs/toxics.md shows the schema.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/AttributeJson.h"
#include "api/JsonViews.h"
#include "api/ToxicRequests.h"
#include "model/ApiError.h"
#include "model/ToxicType.h"

namespace faultline {
namespace {

ToxicSpec decode(const std::string& body) {
  return api::decode_toxic_create(body, [](const std::string&) { return false; });
}

std::string error_of(const std::string& body) {
  try {
    decode(body);
  } catch (const ApiError& e) {
    return std::to_string(e.status()) + " " + e.what();
  }
  return "accepted";
}

std::string body_with(const ToxicType& type, const AttributeSchema& a, const std::string& value_json) {
  return R"({"type":")" + type.name + R"(","attributes":{")" + a.name + R"(":)" + value_json + "}}";
}

bool is_toxiproxy_type(const std::string& name) {
  for (const char* t : {"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop"})
    if (name == t) return true;
  return false;
}

TEST(ToxicSchema, EveryIntegerAttributeRoundTripsAtBothEndsOfItsRange) {
  int checked = 0;
  for (const auto& type : all_toxic_types()) {
    if (!is_toxiproxy_type(type.name)) continue;  // faultline's own types also use enums and numbers
    for (size_t i = 0; i < type.attributes.size(); ++i) {
      const AttributeSchema& a = type.attributes[i];
      if (a.extension) continue;  // faultline's additions, shown only when set
      ASSERT_EQ(a.type, AttributeType::Integer) << type.name << "." << a.name << ": Toxiproxy attributes are integers";
      for (int64_t v : {a.min, a.max, int64_t{0} < a.min ? a.min : int64_t{0}}) {
        const ToxicSpec spec = decode(body_with(type, a, std::to_string(v)));
        EXPECT_EQ(std::get<int64_t>(spec.attributes[i]), v) << type.name << "." << a.name;
        const std::string json = api::toxic_json(spec);
        EXPECT_NE(json.find("\"" + a.name + "\":" + std::to_string(v)), std::string::npos) << json;
        EXPECT_EQ(api::toxic_json(decode(json)), json) << "encode(decode(encode)) is stable";
        ++checked;
      }
      if (a.max < INT64_MAX) {
        const std::string e = error_of(body_with(type, a, std::to_string(a.max + 1)));
        EXPECT_EQ(e.rfind("400 invalid value for " + type.name + " attribute " + a.name + ": " + std::to_string(a.max + 1), 0), 0u) << e;
        EXPECT_NE(e.find(std::to_string(a.max)), std::string::npos) << e;
      }
      if (a.min > INT64_MIN) {
        const std::string e = error_of(body_with(type, a, std::to_string(a.min - 1)));
        EXPECT_NE(e.find("invalid value for " + type.name + " attribute " + a.name), std::string::npos) << e;
      }
    }
  }
  EXPECT_GE(checked, 27);  // 9 attributes, 3 values each
}

TEST(ToxicSchema, ErrorTextsAreExact) {
  EXPECT_EQ(error_of(R"({"type":"bandwidth","attributes":{"rate":-5}})"),
            "400 invalid value for bandwidth attribute rate: -5 (must be 0 or more, in KB/s; at most 100000000)");
  EXPECT_EQ(error_of(R"({"type":"latency","attributes":{"jitter":4611686018427387904}})"),
            "400 invalid value for latency attribute jitter: 4611686018427387904 (allowed: -31536000000 to "
            "31536000000 ms; negative means none)");
  EXPECT_EQ(error_of(R"({"type":"latency","attributes":{"latency":"100ms"}})"),
            "400 bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency "
            "of type int64");
  EXPECT_EQ(error_of(R"({"type":"slicer","attributes":[]})"),
            "400 bad request body: json: cannot unmarshal array into Go value of type toxics.SlicerToxic");
  EXPECT_EQ(error_of(R"({"type":"lag"})"), "400 invalid toxic type");
}

TEST(ToxicSchema, JsonKeepsTheSchemasKeyOrderAndDefaults) {
  EXPECT_EQ(api::toxic_json(decode(R"({"type":"slicer","attributes":{"delay":5,"average_size":9}})")),
            R"({"attributes":{"average_size":9,"size_variation":0,"delay":5},"name":"slicer_downstream","type":"slicer","stream":"downstream","toxicity":1})");
  EXPECT_EQ(api::toxic_json(decode(R"({"type":"noop","stream":"UpStream"})")),
            R"({"attributes":{},"name":"noop_UpStream","type":"noop","stream":"UpStream","toxicity":1})");
}

TEST(ToxicSchema, AKeyThatDoesNotMatchItsSchemaEntryIsAStartUpError) {
  ToxicType type = ToxicType::define("scratch", "ScratchToxic", "test");
  EXPECT_THROW(type.attribute(IntegerKey{1, "a"}, integer_attribute("a", 0, 1, "ms", "")), std::logic_error)
      << "out of place";
  EXPECT_THROW(type.attribute(IntegerKey{0, "b"}, integer_attribute("a", 0, 1, "ms", "")), std::logic_error)
      << "misspelt";
  EXPECT_THROW(type.attribute(StringKey{0, "a"}, integer_attribute("a", 0, 1, "ms", "")), std::logic_error)
      << "wrong type";
  EXPECT_NO_THROW(type.attribute(IntegerKey{0, "a"}, integer_attribute("a", 0, 1, "ms", "")));
}

// Decodes one JSON value for a schema and encodes it again.
std::string round_trip(const AttributeSchema& schema, const std::string& json_text) {
  const json::Value v = json::Value::parse(json_text);
  const AttributeValue value = api::decode_attribute(schema, v, "X.attributes." + schema.name);
  if (auto problem = schema.check("scratch", value)) return "refused: " + *problem;
  std::string out;
  api::append_attribute(out, value);
  return out;
}

std::string decode_error(const AttributeSchema& schema, const std::string& json_text) {
  try {
    round_trip(schema, json_text);
  } catch (const ApiError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(AttributeTypes, NumberStringEnumListCidrMapAndDuration) {
  const auto number = number_attribute("p", 0, 1, "a probability");
  EXPECT_EQ(round_trip(number, "0.25"), "0.25");
  EXPECT_EQ(round_trip(number, "1.5"), "refused: invalid value for scratch attribute p: 1.5 (allowed: 0 to 1)");
  EXPECT_EQ(decode_error(number, "\"x\""),
            "bad request body: json: cannot unmarshal string into Go struct field X.attributes.p of type float64");

  const auto text = string_attribute("path", 8, "a path");
  EXPECT_EQ(round_trip(text, "\"/a<b\""), "\"/a\\u003cb\"");
  EXPECT_NE(round_trip(text, "\"/much/too/long\"").find("refused"), std::string::npos);

  const auto method = enum_attribute("method", {"GET", "POST"}, "an HTTP method");
  EXPECT_EQ(round_trip(method, "\"POST\""), "\"POST\"");
  EXPECT_EQ(round_trip(method, "\"PUT\""), "refused: invalid value for scratch attribute method: \"PUT\" (allowed: one of GET, POST)");

  const auto list = list_attribute("paths", 2, "paths");
  EXPECT_EQ(round_trip(list, R"(["a","b"])"), R"(["a","b"])");
  EXPECT_NE(round_trip(list, R"(["a","b","c"])").find("refused"), std::string::npos);
  EXPECT_EQ(decode_error(list, R"(["a",1])"),
            "bad request body: json: cannot unmarshal number into Go struct field X.attributes.paths of type string");

  const auto cidrs = cidr_list_attribute("clients", 4, "networks");
  EXPECT_EQ(round_trip(cidrs, R"(["10.0.0.0/8","::1","192.168.1.7/32"])"), R"(["10.0.0.0/8","::1","192.168.1.7/32"])");
  EXPECT_EQ(round_trip(cidrs, R"(["10.0.0.0/33"])"),
            "refused: invalid value for scratch attribute clients: \"10.0.0.0/33\" (the prefix length must be a number from 0 to 32)");
  EXPECT_NE(round_trip(cidrs, R"(["example.com"])").find("not an IPv4 or IPv6 address"), std::string::npos);

  const auto headers = map_attribute("headers", 4, "headers");
  EXPECT_EQ(round_trip(headers, R"({"X-A":"1","B":"two"})"), R"({"X-A":"1","B":"two"})") << "written in the order given";
  EXPECT_NE(decode_error(headers, R"({"X-A":1})").find("of type string"), std::string::npos);

  const auto delay = duration_attribute("delay", 0, 60'000, "ms", "a delay");
  EXPECT_EQ(round_trip(delay, "250"), "250");
  EXPECT_EQ(round_trip(delay, "\"1.5s\""), "1500");
  EXPECT_EQ(round_trip(delay, "\"2m\""), "refused: invalid value for scratch attribute delay: 120000 (allowed: 0 to 60000 ms)");
  EXPECT_EQ(round_trip(delay, "-1"), "refused: invalid value for scratch attribute delay: -1 (must be 0 or more, in ms; at most 60000)");
  EXPECT_NE(decode_error(delay, "\"soon\"").find("is not a duration"), std::string::npos);
}

TEST(AttributeTypes, DurationTextsParseAsGoParsesThem) {
  EXPECT_EQ(parse_duration_text("250ms"), 250'000'000);
  EXPECT_EQ(parse_duration_text("1h2m3s"), 3723'000'000'000);
  EXPECT_EQ(parse_duration_text("1.5us"), 1500);
  EXPECT_EQ(parse_duration_text("-2s"), -2'000'000'000);
  EXPECT_EQ(parse_duration_text("0"), 0);
  EXPECT_FALSE(parse_duration_text("5").has_value()) << "a unit is required";
  EXPECT_FALSE(parse_duration_text("ms").has_value());
  EXPECT_FALSE(parse_duration_text("9999999999999h").has_value()) << "overflow";
}

std::string read_docs() {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/docs/toxics.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// docs/toxics.md's attribute tables are the schema's, word for word: change
// a range, a default or a help line and this fails until the docs follow
// (the expected table is printed, ready to paste). A new type needs no docs
// edit to build and test (`faultline toxic types --markdown` is the full,
// generated reference), but once it has a section its table is checked too;
// Toxiproxy's eight types must always be there.
TEST(ToxicSchema, DocsShowTheSchemasAttributeTables) {
  const std::string docs = read_docs();
  ASSERT_FALSE(docs.empty());
  for (const char* name : {"latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop"})
    EXPECT_NE(docs.find(std::string("### `") + name + "`"), std::string::npos) << "docs/toxics.md has no section for " << name;
  int checked = 0;
  for (const auto& type : all_toxic_types()) {
    const size_t section = docs.find("### `" + type.name + "`");
    if (section == std::string::npos) continue;
    const size_t next = docs.find("\n### ", section + 1);
    const std::string body = docs.substr(section, next == std::string::npos ? std::string::npos : next - section);
    const std::string table = attribute_table_markdown(type);
    EXPECT_NE(body.find(table), std::string::npos) << "docs/toxics.md, section " << type.name << ", should contain:\n"
                                                   << table;
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

}  // namespace
}  // namespace faultline
