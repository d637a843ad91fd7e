#pragma once
// Files built into the binary (cmake/EmbedFiles.cmake writes the table).
#include <cstddef>
#include <span>
#include <string_view>

namespace faultline {

struct EmbeddedFile {
  std::string_view name;  // "index.html"
  const char* data;
  size_t size;
  std::string_view bytes() const { return {data, size}; }
};

namespace ui {
std::span<const EmbeddedFile> files();  // the web UI's assets (ui/)
}

}  // namespace faultline
