#include "json/BoundedParse.h"

namespace faultline::json {
namespace {

using Value = nlohmann::ordered_json;

// Builds the document as the library's own DOM builder does, counting
// nesting on the way in and turning a number overflow into its own error.
class BoundedBuilder {
 public:
  BoundedBuilder(Value& result, size_t max_depth) : dom_(result, true), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Value::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Value::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Value::number_float_t v, const Value::string_t& s) { return dom_.number_float(v, s); }
  bool string(Value::string_t& v) { return dom_.string(v); }
  bool binary(Value::binary_t& v) { return dom_.binary(v); }
  bool key(Value::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) {
    enter();
    return dom_.start_object(n);
  }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    enter();
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    if (error.id == 406) throw JsonNumberOutOfRange(token);  // "number overflow parsing"
    return dom_.parse_error(position, token, error);         // throws it
  }

 private:
  void enter() {
    if (++depth_ > max_depth_) throw JsonTooDeep(max_depth_);
  }

  nlohmann::detail::json_sax_dom_parser<Value> dom_;
  size_t depth_ = 0;
  size_t max_depth_;
};

}  // namespace

Value parse_bounded(std::string_view text, size_t max_depth, bool whole_input) {
  Value result;
  BoundedBuilder builder(result, max_depth);
  Value::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json, whole_input);
  return result;
}

}  // namespace faultline::json
