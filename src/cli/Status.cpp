// `faultline status`: every proxy and every toxic in one table, one row per
// toxic, so an operator sees at a glance what is being done to the traffic.
#include <fmt/format.h>

#include <algorithm>

#include "cli/Commands.h"

namespace faultline::cli {

void show_status(Context& ctx) {
  std::string body;
  try {
    body = ctx.api.get("/proxies");
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to retrieve proxies: {}", error.what()));
  }
  if (ctx.style.json) return print_json(body);
  const auto proxies = parse_proxy_map(body);
  if (proxies.empty()) return fmt::print("no proxies\n");

  // The API has no connection count today; show the column only when a
  // server reports one, rather than a column of blanks.
  const bool with_connections =
      std::any_of(proxies.begin(), proxies.end(), [](const Proxy& p) { return p.connections.has_value(); });
  std::vector<std::string> headers{"PROXY", "STATE", "LISTEN", "UPSTREAM"};
  if (with_connections) headers.push_back("CONNS");
  for (const char* header : {"TOXIC", "TYPE", "STREAM", "TOXICITY", "ATTRIBUTES"}) headers.push_back(header);
  Table table(headers);

  for (const auto& proxy : proxies) {
    std::vector<Table::Cell> lead{{proxy.name, Colour::Cyan},
                                  {proxy.enabled ? "enabled" : "disabled", proxy.enabled ? Colour::Green : Colour::Red},
                                  {proxy.listen},
                                  {proxy.upstream}};
    if (with_connections) lead.push_back({proxy.connections ? std::to_string(*proxy.connections) : "-"});
    if (proxy.toxics.empty()) {
      lead.push_back({"-", Colour::Dim});
      table.add_row(lead);
      continue;
    }
    for (const auto& toxic : proxy.toxics) {
      std::vector<Table::Cell> row = lead;
      std::string attributes;
      for (const auto& pair : attribute_pairs(toxic.attributes)) attributes += (attributes.empty() ? "" : " ") + pair;
      row.push_back({toxic.name, Colour::Yellow});
      row.push_back({toxic.type});
      row.push_back({toxic.stream});
      row.push_back({fmt::format("{:.2f}", toxic.toxicity)});
      row.push_back({attributes});
      table.add_row(row);
      // Later rows of the same proxy leave the proxy columns blank.
      for (auto& cell : lead) cell = {"", Colour::None};
    }
  }
  fmt::print("{}", table.render(ctx.style.colour));
}

}  // namespace faultline::cli
