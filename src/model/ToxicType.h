#pragma once
// A toxic type and the catalogue of all of them. Each type lives in one file
// under src/toxics/types/: it declares its name, its attributes and the stage
// that does its work on a connection, with FAULTLINE_TOXIC_TYPE. CMake finds
// the files and lists them in a generated source, so adding a type touches
// that file (and its test) only.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/Attribute.h"

namespace faultline {

class ToxicStage;
class ToxicChain;
struct ToxicConfig;

struct ToxicType {
  std::string name;       // as in the API: "latency", "slow_close", ...
  std::string go_struct;  // used in Go-style decode errors: "LatencyToxic"
  std::string help;       // one line: what it does
  std::vector<AttributeSchema> attributes;  // in JSON key order
  // HTTP toxics: a stage on both streams of a connection (requests one way,
  // responses the other), whatever `stream` the toxic was given.
  bool both_streams = false;
  // HTTP toxics: toxicity is drawn per request by the stage, not per
  // connection by the chain (the stage acts on every connection).
  bool per_request_toxicity = false;
  // Makes the stage that works on one direction of one connection.
  std::function<std::unique_ptr<ToxicStage>(ToxicChain&, std::shared_ptr<const ToxicConfig>)> make_stage;

  static ToxicType define(std::string_view name, std::string_view go_struct, std::string_view help) {
    ToxicType t;
    t.name = name, t.go_struct = go_struct, t.help = help;
    return t;
  }

  const AttributeSchema* find_attribute(std::string_view key) const;
  std::vector<AttributeValue> defaults() const;

  // Adds an attribute; `key` must be the constant the stage reads it with.
  template <AttributeType T>
  ToxicType& attribute(AttributeKey<T> key, AttributeSchema schema) {
    add_attribute(key.index, key.name, T, std::move(schema));
    return *this;
  }
  template <class Stage>
  ToxicType& stage() {
    make_stage = [](ToxicChain& chain, std::shared_ptr<const ToxicConfig> config) -> std::unique_ptr<ToxicStage> {
      return std::make_unique<Stage>(chain, std::move(config));
    };
    return *this;
  }

 private:
  void add_attribute(size_t index, std::string_view key_name, AttributeType key_type, AttributeSchema schema);
};

// Every registered type, sorted by name. Throws std::logic_error at first use
// when a type is declared wrongly (a key out of place, a duplicate name).
std::span<const ToxicType> all_toxic_types();
const ToxicType* find_toxic_type(std::string_view name);
const ToxicType& noop_toxic_type();

// The markdown table of a type's attributes, as docs/toxics.md shows it (a
// test checks the docs against it).
std::string attribute_table_markdown(const ToxicType& type);

}  // namespace faultline

// Defines the function that builds one toxic type, inside namespace faultline. `Id` must be the file's
// name without ".cpp" (CMake derives the registration from it).
#define FAULTLINE_TOXIC_TYPE(Id) ::faultline::ToxicType faultline_define_##Id()
