#include "config/YamlConfig.h"

#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/ConfigFile.h"
#include "json/BoundedParse.h"

namespace faultline {
namespace {

using json::Value;

constexpr size_t kMaxYamlValues = 200'000;  // after aliases are expanded

// A plain YAML scalar that is a number in JSON's grammar (YAML 1.2's core
// schema); anything else ("nan", ".inf", "0x10", "1_000") stays a string.
// Hand-written: std::regex recurses once per character and overflowed the
// stack on a 300,000-digit scalar.
bool looks_like_json_number(const std::string& s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') ++i;
  else if (digits() == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// JSON text (and so the API's answers) must be UTF-8; YAML files may hold any bytes.
void require_utf8(const std::string& s) {
  try {
    (void)Value(s).dump();
  } catch (const nlohmann::json::type_error&) {
    throw std::runtime_error("text that is not valid UTF-8");
  }
}

Value yaml_scalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  require_utf8(s);
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  if (!looks_like_json_number(s)) return s;
  // Through the JSON parser, so that a number means exactly what it would in
  // a JSON config file (and one that overflows is refused the same way).
  return json::parse_bounded(s, 1, true);
}

// YAML to the JSON document the validator reads. Aliases are expanded, so
// the number of values made is bounded (a few hundred bytes of aliases can
// stand for billions of values), and so is the depth (an alias may refer to
// the node that contains it).
class YamlToJson {
 public:
  explicit YamlToJson(const std::string& origin) : origin_(origin) {}

  Value convert(const YAML::Node& node, size_t depth = 0) {
    if (++values_ > kMaxYamlValues)
      fail(fmt::format("more than {} values once aliases are expanded (an alias bomb?)", kMaxYamlValues));
    if (depth > kMaxConfigDepth) fail(fmt::format("nested deeper than {} levels", kMaxConfigDepth));
    switch (node.Type()) {
      case YAML::NodeType::Sequence: {
        Value out = Value::array();
        for (const auto& item : node) out.push_back(convert(item, depth + 1));
        return out;
      }
      case YAML::NodeType::Map: {
        Value out = Value::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) fail(fmt::format("line {}: a key must be plain text", kv.first.Mark().line + 1));
          const std::string key = kv.first.Scalar();
          try {
            require_utf8(key);
          } catch (const std::exception& e) {
            fail(fmt::format("line {}: a key is {}", kv.first.Mark().line + 1, e.what()));
          }
          // YAML forbids duplicate keys; a second "latency:" is a mistake, not an override.
          if (out.contains(key)) fail(fmt::format("line {}: key \"{}\" appears twice in the same mapping", kv.first.Mark().line + 1, key));
          out[key] = convert(kv.second, depth + 1);
        }
        return out;
      }
      case YAML::NodeType::Scalar: {
        try {
          return yaml_scalar(node);
        } catch (const std::exception& e) {
          fail(fmt::format("line {}: {}", node.Mark().line + 1, e.what()));
        }
      }
      default: return nullptr;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(fmt::format("{}: not a usable YAML config: {}", origin_, what));
  }

  const std::string& origin_;
  size_t values_ = 0;
};

// Counts documents without building them. YAML::LoadAll cannot be used:
// on some invalid texts (",33") it makes empty documents for ever and
// allocates until the process dies (found by the config fuzzer).
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// 0, 1, or 2 for "more than one".
int count_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  int documents = 0;
  while (documents < 2 && parser.HandleNextDocument(counter)) ++documents;
  return documents;
}

}  // namespace

Value parse_yaml_config(const std::string& text, const std::string& origin) {
  YAML::Node document;
  try {
    const int documents = count_documents(text);
    if (documents == 0) throw ConfigError(fmt::format("{}: not a usable YAML config: the file holds no document", origin));
    if (documents > 1)
      throw ConfigError(fmt::format("{}: not a usable YAML config: the file holds more than one document (or text "
                                    "after the first); expected exactly one list of proxies", origin));
    document = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", origin, e.what()));
  }
  return YamlToJson(origin).convert(document);
}


}  // namespace faultline
