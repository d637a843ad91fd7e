// `faultline toxic types`: every toxic type with its attributes, from the
// schema the server validates with (no server needed). --markdown prints
// the tables docs/toxics.md carries.
#include <fmt/format.h>

#include "cli/Commands.h"
#include "model/ToxicType.h"

namespace faultline::cli {

void print_toxic_types(bool markdown) {
  for (const auto& type : all_toxic_types()) {
    if (markdown) {
      fmt::print("### `{}`\n\n{}\n\n{}\n", type.name, type.help, attribute_table_markdown(type));
      continue;
    }
    fmt::print("{}\t{}\n", type.name, type.help);
    for (const auto& a : type.attributes)
      fmt::print("  {}\t{}{}, default {}; {}: {}\n", a.name, to_string(a.type), a.unit.empty() ? "" : " in " + a.unit,
                 describe_value(a.default_value), a.allowed_text(), a.help);
  }
}

std::string toxic_type_names() {
  std::string names;
  for (const auto& type : all_toxic_types()) names += (names.empty() ? "" : ", ") + type.name;
  return names;
}

}  // namespace faultline::cli
