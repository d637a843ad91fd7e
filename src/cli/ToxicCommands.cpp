// toxic add / update / remove / list: the toxic half of toxiproxy-cli.
#include <fmt/format.h>

#include <charconv>

#include "cli/Commands.h"
#include "cli/Units.h"

namespace faultline::cli {
namespace {

// Integers are sent as integers: the server's attribute fields are integer
// typed and a Go-style decoder rejects 100.0 for them.
nlohmann::json attribute_value(const std::string& text) {
  int64_t integer = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) return integer;
  double number = 0;
  if (parse_number(text, number)) return number;
  return text;
}

std::string toxic_path(const std::string& proxy, const std::string& toxic = "") {
  std::string path = "/proxies/" + path_segment(proxy) + "/toxics";
  if (!toxic.empty()) path += "/" + path_segment(toxic);
  return path;
}

}  // namespace

nlohmann::json parse_attributes(const std::vector<std::string>& pairs) {
  auto attributes = nlohmann::json::object();
  for (const auto& pair : pairs) {
    const auto equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw CommandError(fmt::format("Invalid attribute '{}': expected key=value", pair));
    }
    attributes[pair.substr(0, equals)] = attribute_value(pair.substr(equals + 1));
  }
  return attributes;
}

void check_toxicity(std::optional<double> toxicity) {
  if (toxicity && !(*toxicity >= 0.0 && *toxicity <= 1.0)) {
    throw CommandError(fmt::format("Invalid toxicity {}: must be a number between 0 and 1", *toxicity));
  }
}

void add_toxic(Context& ctx, const ToxicAddOptions& options) {
  check_toxicity(options.toxicity);
  nlohmann::json request = {{"type", options.type},
                            {"stream", options.upstream ? "upstream" : "downstream"},
                            {"toxicity", options.toxicity.value_or(1.0)},
                            {"attributes", parse_attributes(options.attributes)}};
  if (!options.name.empty()) request["name"] = options.name;
  fetch_proxy(ctx, options.proxy);
  std::string body;
  try {
    body = ctx.api.post(toxic_path(options.proxy), request.dump());
  } catch (const ApiError& error) {
    throw CommandError(
        fmt::format("Failed to add toxic: failed to add toxic to proxy {}: AddToxic: {}", options.proxy, error.what()));
  }
  if (ctx.style.json) return print_json(body);
  const Toxic toxic = parse_toxic(nlohmann::json::parse(body, nullptr, false));
  fmt::print("Added {} {} toxic '{}' on proxy '{}'\n", toxic.stream, toxic.type, toxic.name, options.proxy);
}

void update_toxic(Context& ctx, const std::string& proxy, const std::string& name, std::optional<double> toxicity,
                  const std::vector<std::string>& attributes) {
  check_toxicity(toxicity);
  nlohmann::json request = {{"attributes", parse_attributes(attributes)}};
  if (toxicity) request["toxicity"] = *toxicity;
  fetch_proxy(ctx, proxy);
  std::string body;
  try {
    body = ctx.api.patch(toxic_path(proxy, name), request.dump());
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to update toxic: UpdateToxic: {}", error.what()));
  }
  if (ctx.style.json) return print_json(body);
  fmt::print("Updated toxic '{}' on proxy '{}'\n", name, proxy);
}

void remove_toxic(Context& ctx, const std::string& proxy, const std::string& name) {
  fetch_proxy(ctx, proxy);
  try {
    ctx.api.remove(toxic_path(proxy, name));
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to remove toxic: RemoveToxic: {}", error.what()));
  }
  fmt::print("Removed toxic '{}' on proxy '{}'\n", name, proxy);
}

void list_toxics(Context& ctx, const std::string& proxy) {
  std::string body;
  try {
    body = ctx.api.get(toxic_path(proxy));
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to retrieve proxy {}: {}", proxy, error.what()));
  }
  if (ctx.style.json) return print_json(body);
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_array()) throw std::runtime_error("unexpected reply: the toxic list is not a JSON array");
  std::vector<Toxic> toxics;
  for (const auto& toxic : json) toxics.push_back(parse_toxic(toxic));
  print_toxics(ctx, toxics);
}

}  // namespace faultline::cli
