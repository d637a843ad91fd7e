#pragma once
// Text placed in an HTML page (the load and experiment reports): escaped so
// that names and outputs from the system under test are shown, never run.
#include <string>
#include <string_view>

namespace faultline {

inline std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace faultline
