// list, inspect, create, toggle, delete: the proxy half of toxiproxy-cli.
#include <fmt/format.h>

#include "cli/Commands.h"

namespace faultline::cli {
namespace {

nlohmann::json parse_body(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) throw std::runtime_error("unexpected reply: the server did not send JSON");
  return json;
}

std::string toxicity_text(double toxicity) { return fmt::format("{:.2f}", toxicity); }

// The reference's script format: one tab-separated line per toxic, with the
// attributes bracketed so a parser can find where they end.
void print_toxic_lines(const std::vector<Toxic>& toxics) {
  for (const auto& toxic : toxics) {
    std::string line = fmt::format("{}\ttype={}\tstream={}\ttoxicity={}\tattributes=[", toxic.name, toxic.type,
                                   toxic.stream, toxicity_text(toxic.toxicity));
    for (const auto& pair : attribute_pairs(toxic.attributes)) line += "\t" + pair;
    fmt::print("{}\t]\n", line);
  }
}

void print_proxy_table(const Context& ctx, const std::vector<Proxy>& proxies) {
  Table table({"NAME", "LISTEN", "UPSTREAM", "ENABLED", "TOXICS"});
  for (const auto& proxy : proxies) {
    table.add_row({{proxy.name, Colour::Cyan},
                   {proxy.listen},
                   {proxy.upstream},
                   {proxy.enabled ? "enabled" : "disabled", proxy.enabled ? Colour::Green : Colour::Red},
                   {proxy.toxics.empty() ? "none" : std::to_string(proxy.toxics.size()),
                    proxy.toxics.empty() ? Colour::None : Colour::Yellow}});
  }
  fmt::print("{}", table.render(ctx.style.colour));
}

}  // namespace

void print_toxics(const Context& ctx, const std::vector<Toxic>& toxics) {
  if (!ctx.style.terminal) return print_toxic_lines(toxics);
  if (toxics.empty()) return fmt::print("no toxics\n");
  Table table({"TOXIC", "TYPE", "STREAM", "TOXICITY", "ATTRIBUTES"});
  for (const auto& toxic : toxics) {
    std::string attributes;
    for (const auto& pair : attribute_pairs(toxic.attributes)) attributes += (attributes.empty() ? "" : " ") + pair;
    table.add_row({{toxic.name, Colour::Yellow}, {toxic.type}, {toxic.stream}, {toxicity_text(toxic.toxicity)},
                   {attributes}});
  }
  fmt::print("{}", table.render(ctx.style.colour));
}

Proxy fetch_proxy(Context& ctx, const std::string& name) {
  try {
    return parse_proxy(parse_body(ctx.api.get("/proxies/" + path_segment(name))));
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to retrieve proxy {}: {}", name, error.what()));
  }
}

std::string fetch_proxy_list(Context& ctx) {
  try {
    return ctx.api.get("/proxies");
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to retrieve proxies: {}", error.what()));
  }
}

void list_proxies(Context& ctx) {
  const std::string body = fetch_proxy_list(ctx);
  if (ctx.style.json) return print_json(body);
  const auto proxies = parse_proxy_map(body);
  if (ctx.style.terminal) {
    if (proxies.empty()) return fmt::print("no proxies (add one with: faultline create NAME -l HOST:PORT -u HOST:PORT)\n");
    return print_proxy_table(ctx, proxies);
  }
  for (const auto& proxy : proxies) {
    fmt::print("{}\t{}\t{}\t{}\t{}\n", proxy.name, proxy.listen, proxy.upstream,
               proxy.enabled ? "enabled" : "disabled", proxy.toxics.size());
  }
}

void inspect_proxy(Context& ctx, const std::string& name) {
  std::string body;
  try {
    body = ctx.api.get("/proxies/" + path_segment(name));
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to retrieve proxy {}: {}", name, error.what()));
  }
  if (ctx.style.json) return print_json(body);
  const auto proxy = parse_proxy(parse_body(body));
  if (ctx.style.terminal) {
    const bool c = ctx.style.colour;
    fmt::print("{}  {}  listen {}  upstream {}\n\n", paint(proxy.name, Colour::Cyan, c),
               paint(proxy.enabled ? "enabled" : "disabled", proxy.enabled ? Colour::Green : Colour::Red, c),
               proxy.listen, proxy.upstream);
  }
  print_toxics(ctx, proxy.toxics);
}

void create_proxy(Context& ctx, const std::string& name, const std::string& listen, const std::string& upstream) {
  const nlohmann::json request = {{"name", name}, {"listen", listen}, {"upstream", upstream}, {"enabled", true}};
  std::string body;
  try {
    body = ctx.api.post("/proxies", request.dump());
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to create proxy: Create: {}", error.what()));
  }
  if (ctx.style.json) return print_json(body);
  fmt::print("Created new proxy {}\n", name);
}

void toggle_proxy(Context& ctx, const std::string& name) {
  const Proxy proxy = fetch_proxy(ctx, name);
  const bool enabled = !proxy.enabled;
  try {
    ctx.api.patch("/proxies/" + path_segment(name), nlohmann::json{{"enabled", enabled}}.dump());
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to toggle proxy {}: Save: {}", name, error.what()));
  }
  fmt::print("Proxy {} is now {}\n", name, enabled ? "enabled" : "disabled");
}

void delete_proxy(Context& ctx, const std::string& name) {
  fetch_proxy(ctx, name);  // so a missing proxy fails with the reference's message
  try {
    ctx.api.remove("/proxies/" + path_segment(name));
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to delete proxy: Delete: {}", error.what()));
  }
  fmt::print("Deleted proxy {}\n", name);
}

}  // namespace faultline::cli
