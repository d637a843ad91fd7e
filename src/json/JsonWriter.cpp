#include "json/JsonWriter.h"

#include <charconv>
#include <cmath>

namespace faultline::json {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_unicode_escape(std::string& out, unsigned code) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code >> shift) & 0xF];
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t utf8_sequence_length(std::string_view s, size_t i, unsigned& code) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    code = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    code = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    code = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    code = (code << 6) | (b & 0x3F);
  }
  const bool overlong = (len == 3 && code < 0x800) || (len == 4 && code < 0x10000);
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  if (overlong || surrogate || code > 0x10FFFF) return 0;
  return len;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<':
        case '>':
        case '&': append_unicode_escape(out, c); break;  // Go's HTML-safe escaping
        default:
          if (c < 0x20) append_unicode_escape(out, c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    unsigned code = 0;
    const size_t len = utf8_sequence_length(s, i, code);
    if (len == 0) {
      out += "\\ufffd";  // Go replaces invalid UTF-8 with U+FFFD
      ++i;
    } else if (code == 0x2028 || code == 0x2029) {
      append_unicode_escape(out, code);
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  out += '"';
}

void append_float32(std::string& out, float value) {
  char buf[64];
  const float magnitude = std::fabs(value);
  // Go switches to exponent form outside [1e-6, 1e21).
  const bool exponent = magnitude != 0 && (magnitude < 1e-6f || magnitude >= 1e21f);
  auto result = std::to_chars(buf, buf + sizeof buf, value,
                              exponent ? std::chars_format::scientific : std::chars_format::fixed);
  out.append(buf, result.ptr);
}

void append_int(std::string& out, int64_t value) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

std::string& ObjectWriter::key(std::string_view name) {
  if (!first_) out_ += ',';
  first_ = false;
  append_string(out_, name);
  out_ += ':';
  return out_;
}

}  // namespace faultline::json
