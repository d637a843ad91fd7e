#pragma once
// JSON parsing with limits a hostile input cannot get round: a nesting depth
// (deep documents exhaust the stack of whatever walks them later) and
// numbers that overflow a double reported as such instead of as an
// unexpected exception.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace faultline::json {

class JsonTooDeep : public std::runtime_error {
 public:
  explicit JsonTooDeep(size_t limit)
      : std::runtime_error("exceeded max depth of " + std::to_string(limit) + " nested arrays and objects") {}
};

class JsonNumberOutOfRange : public std::runtime_error {
 public:
  // A long number is cut in the message: the message goes back to whoever
  // sent it, and a megabyte of digits helps no one.
  explicit JsonNumberOutOfRange(const std::string& number)
      : std::runtime_error("number " +
                           (number.size() <= 40 ? number : number.substr(0, 32) + "... (" + std::to_string(number.size()) + " characters)") +
                           " is out of range") {}
};

// Parses the first JSON value of `text`; with `whole_input` nothing but
// white space may follow it. Syntax errors throw nlohmann::json::parse_error.
nlohmann::ordered_json parse_bounded(std::string_view text, size_t max_depth, bool whole_input);

}  // namespace faultline::json
