#pragma once
// The typed attributes of a toxic type: what each one is called, what kind of
// value it holds, its default, the values it accepts and a line of help. A
// toxic type's file declares its attributes once (see ToxicType.h); that one
// declaration drives decoding, validation, the JSON the API writes, the
// config file, the docs' tables and the CLI's help.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace faultline {

enum class AttributeType {
  Integer,   // whole number (every Toxiproxy attribute)
  Number,    // floating point
  String,
  Duration,  // whole number in `unit`, or a text such as "250ms", "1.5s"
  Enum,      // one of `choices`
  List,      // list of strings
  CidrList,  // list of "address/prefix" networks (or plain addresses)
  Map,       // object of string values
};

std::string_view to_string(AttributeType type);

using StringMap = std::vector<std::pair<std::string, std::string>>;  // in the order written
// Integer and Duration hold int64_t; Enum holds std::string; List and CidrList hold the list.
using AttributeValue = std::variant<int64_t, double, std::string, std::vector<std::string>, StringMap>;

// The C++ type an attribute's value has.
template <AttributeType T> struct AttributeStorage;
template <> struct AttributeStorage<AttributeType::Integer> { using type = int64_t; };
template <> struct AttributeStorage<AttributeType::Duration> { using type = int64_t; };
template <> struct AttributeStorage<AttributeType::Number> { using type = double; };
template <> struct AttributeStorage<AttributeType::String> { using type = std::string; };
template <> struct AttributeStorage<AttributeType::Enum> { using type = std::string; };
template <> struct AttributeStorage<AttributeType::List> { using type = std::vector<std::string>; };
template <> struct AttributeStorage<AttributeType::CidrList> { using type = std::vector<std::string>; };
template <> struct AttributeStorage<AttributeType::Map> { using type = StringMap; };

// How a toxic's code names one of its attributes: a constant declared next to
// the stage, so a misspelt name does not compile. Its position and name are
// checked against the schema when the type is registered (at start-up).
template <AttributeType T>
struct AttributeKey {
  using value_type = typename AttributeStorage<T>::type;
  static constexpr AttributeType type = T;
  size_t index;
  std::string_view name;
};
using IntegerKey = AttributeKey<AttributeType::Integer>;
using NumberKey = AttributeKey<AttributeType::Number>;
using StringKey = AttributeKey<AttributeType::String>;
using DurationKey = AttributeKey<AttributeType::Duration>;
using EnumKey = AttributeKey<AttributeType::Enum>;
using ListKey = AttributeKey<AttributeType::List>;
using CidrListKey = AttributeKey<AttributeType::CidrList>;
using MapKey = AttributeKey<AttributeType::Map>;

// One attribute of a toxic type. Every numeric range is one the arithmetic
// behind the attribute survives (durations far from the 292 years a
// nanosecond clock holds, rates with room for byte counts times 10^6), so no
// accepted value can overflow, divide by zero or spin.
struct AttributeSchema {
  std::string name;  // JSON key
  AttributeType type = AttributeType::Integer;
  AttributeValue default_value = int64_t{0};
  // Integer and Duration (in `unit`); Number uses min_number/max_number;
  // String, List, CidrList and Map bound their length / element count by max.
  int64_t min = 0;
  int64_t max = 0;
  double min_number = 0, max_number = 0;
  std::string unit;      // "ms", "KB/s", "bytes", "us"
  std::string negative;  // what a negative value means, when one is allowed
  std::vector<std::string> choices;  // Enum
  std::string help;      // one line, for the docs and the CLI
  // faultline's addition to one of Toxiproxy's types: its JSON shows it only
  // when it is not at its default, so Toxiproxy clients see what they know.
  bool extension = false;

  // A check of the type's own beyond the range (a regex that must compile):
  // what is wrong with the value, naming it, or nothing.
  std::function<std::optional<std::string>(const AttributeValue&)> validate;

  // The "allowed" column of the docs and the tail of error messages: "-5 to 5 ms; negative means none".
  std::string allowed_text() const;
  // An error message naming the toxic type, the attribute, the value and what
  // is allowed, or nothing when `value` is acceptable.
  std::optional<std::string> check(std::string_view toxic_type, const AttributeValue& value) const;

 private:
  std::optional<std::string> check_shape(std::string_view toxic_type, const AttributeValue& value) const;
};

// A value as the docs and logs show it: 100, "GET", [a, b], {k: v}.
std::string describe_value(const AttributeValue& value);

// The start of a schema entry, one per type; the toxic's file fills in the rest.
AttributeSchema integer_attribute(std::string_view name, int64_t min, int64_t max, std::string_view unit,
                                  std::string_view help);
AttributeSchema duration_attribute(std::string_view name, int64_t min, int64_t max, std::string_view unit,
                                   std::string_view help);
AttributeSchema number_attribute(std::string_view name, double min, double max, std::string_view help);
AttributeSchema string_attribute(std::string_view name, size_t max_length, std::string_view help);
AttributeSchema enum_attribute(std::string_view name, std::vector<std::string> choices, std::string_view help);
AttributeSchema list_attribute(std::string_view name, size_t max_items, std::string_view help);
AttributeSchema cidr_list_attribute(std::string_view name, size_t max_items, std::string_view help);
AttributeSchema map_attribute(std::string_view name, size_t max_items, std::string_view help);

// Parses "10.0.0.0/8", "::1" or "192.168.1.7/32". Returns an error text, or nothing when it is a network.
std::optional<std::string> check_cidr(std::string_view text);
// Parses a Go-style duration ("1.5s", "250ms", "10us", "2m", "1h") into nanoseconds; nothing when malformed.
std::optional<int64_t> parse_duration_text(std::string_view text);

}  // namespace faultline
