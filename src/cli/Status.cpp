// `faultline status`: every proxy and every toxic in one table, one row per
// toxic, so an operator sees at a glance what is being done to the traffic.
#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli/Commands.h"

namespace faultline::cli {

// faultline-server reports live connections on /faultline/stats; Toxiproxy
// answers 404 there, and then the column is left out.
void add_live_connections(Context& ctx, std::vector<Proxy>& proxies) {
  nlohmann::json stats;
  try {
    stats = nlohmann::json::parse(ctx.api.get("/faultline/stats"));
  } catch (const std::exception&) {
    return;
  }
  for (auto& proxy : proxies) {
    auto it = stats.find(proxy.name);
    if (it != stats.end() && it->contains("connections") && (*it)["connections"].is_number_integer())
      proxy.connections = (*it)["connections"].get<int64_t>();
  }
}

void show_status(Context& ctx) {
  const std::string body = fetch_proxy_list(ctx);
  if (ctx.style.json) return print_json(body);
  auto proxies = parse_proxy_map(body);
  if (proxies.empty()) return fmt::print("no proxies\n");
  add_live_connections(ctx, proxies);

  // Show the column only when the server reports counts (Toxiproxy does
  // not), rather than a column of blanks.
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
