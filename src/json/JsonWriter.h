#pragma once
// Appends JSON text the way Go's encoding/json writes it, so that bodies are
// byte-for-byte what Toxiproxy clients have always seen: compact, keys in the
// order they are written, strings escaped like Go (including <, > and &).
#include <cstdint>
#include <string>
#include <string_view>

namespace faultline::json {

void append_string(std::string& out, std::string_view text);
// float32 in the shortest form that reads back to the same value: 1, 0.5, 0.3.
void append_float32(std::string& out, float value);
void append_int(std::string& out, int64_t value);

class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Writes `"key":` and returns the buffer for the value.
  std::string& key(std::string_view name);
  void field(std::string_view name, std::string_view value) { append_string(key(name), value); }
  void field(std::string_view name, const char* value) { append_string(key(name), value); }
  void field(std::string_view name, int64_t value) { append_int(key(name), value); }
  void field(std::string_view name, int value) { append_int(key(name), value); }
  void field(std::string_view name, bool value) { key(name) += value ? "true" : "false"; }
  void raw_field(std::string_view name, std::string_view json) { key(name) += json; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace faultline::json
