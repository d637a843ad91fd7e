#pragma once
// errno text as Go prints it ("address already in use"), which is what
// Toxiproxy clients have seen in error messages; glibc capitalises it.
#include <cctype>
#include <cstring>
#include <string>

namespace faultline {

inline std::string errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace faultline
