#pragma once
// How the CLI prints: aligned tables for people, the reference's
// tab-separated lines for scripts, colour only on a terminal and never
// when NO_COLOR is set (https://no-color.org).
#include <string>
#include <vector>

namespace faultline::cli {

enum class Colour { None, Green, Red, Yellow, Cyan, Dim };

struct OutputStyle {
  bool terminal = false;  // stdout is a TTY: tables instead of plain lines
  bool colour = false;    // ANSI colours allowed
  bool json = false;      // --json: print the API's JSON as received
};

// Looks at stdout and the environment.
OutputStyle detect_style();

std::string paint(const std::string& text, Colour colour, bool enabled);

// Columns padded to their widest cell; colour codes are added after the
// padding is worked out so they never skew the alignment.
class Table {
 public:
  struct Cell {
    std::string text;
    Colour colour = Colour::None;
  };

  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<Cell> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  std::string render(bool colour) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

// Prints a raw API body as one JSON document followed by a newline.
void print_json(const std::string& body);

}  // namespace faultline::cli
