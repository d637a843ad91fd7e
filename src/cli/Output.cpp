#include "cli/Output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace faultline::cli {

OutputStyle detect_style() {
  OutputStyle style;
  style.terminal = ::isatty(STDOUT_FILENO) == 1;
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::string(term) == "dumb";
  style.colour = style.terminal && (no_colour == nullptr || *no_colour == '\0') && !dumb;
  return style;
}

std::string paint(const std::string& text, Colour colour, bool enabled) {
  if (!enabled || colour == Colour::None) return text;
  const char* code = "";
  switch (colour) {
    case Colour::Green: code = "32"; break;
    case Colour::Red: code = "31"; break;
    case Colour::Yellow: code = "33"; break;
    case Colour::Cyan: code = "36"; break;
    case Colour::Dim: code = "2"; break;
    case Colour::None: break;
  }
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

std::string Table::render(bool colour) const {
  std::vector<size_t> widths;
  for (const auto& header : headers_) widths.push_back(header.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i >= widths.size()) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].text.size());
    }
  }
  // The last column is never padded, so lines carry no trailing blanks.
  auto line = [&](const std::vector<Cell>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string text = cells[i].text;
      if (i + 1 < cells.size()) text.resize(widths[i], ' ');
      out += paint(text, cells[i].colour, colour);
      if (i + 1 < cells.size()) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::vector<Cell> header_cells;
  for (const auto& header : headers_) header_cells.push_back({header, Colour::Dim});
  std::string out = line(header_cells);
  for (const auto& row : rows_) out += line(row);
  return out;
}

void print_json(const std::string& body) {
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  fmt::print("{}\n", text);
}

}  // namespace faultline::cli
