// Operator shortcuts: one word per failure, safe to run again and again.
#include <fmt/format.h>

#include "cli/Commands.h"

namespace faultline::cli {
namespace {

std::vector<std::string> streams_of(Direction direction) {
  switch (direction) {
    case Direction::Up: return {"upstream"};
    case Direction::Down: return {"downstream"};
    case Direction::Both: break;
  }
  return {"upstream", "downstream"};
}

std::string toxics_path(const std::string& proxy) { return "/proxies/" + path_segment(proxy) + "/toxics"; }

}  // namespace

Direction parse_direction(const std::string& text) {
  if (text == "up" || text == "upstream") return Direction::Up;
  if (text == "down" || text == "downstream") return Direction::Down;
  if (text == "both") return Direction::Both;
  throw CommandError(fmt::format("Invalid direction '{}': use up, down or both", text));
}

void set_enabled(Context& ctx, const std::string& name, bool enabled) {
  try {
    ctx.api.patch("/proxies/" + path_segment(name), nlohmann::json{{"enabled", enabled}}.dump());
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to {} proxy {}: {}", enabled ? "enable" : "disable", name, error.what()));
  }
  fmt::print("Proxy {} is now {}\n", name, enabled ? "enabled" : "disabled");
}

void apply_shortcut(Context& ctx, const ShortcutToxic& toxic) {
  for (const auto& stream : streams_of(toxic.direction)) {
    const std::string name = toxic.type + "_" + stream;
    const nlohmann::json add = {{"name", name},
                                {"type", toxic.type},
                                {"stream", stream},
                                {"toxicity", toxic.toxicity},
                                {"attributes", toxic.attributes}};
    nlohmann::json body = add;
    if (toxic.for_ms) body["duration_ms"] = *toxic.for_ms;
    try {
      ctx.api.post(toxics_path(toxic.proxy), body.dump());
      if (toxic.for_ms) fmt::print("Added {} {} toxic '{}' on proxy '{}' for {} ms\n", stream, toxic.type, name, toxic.proxy, *toxic.for_ms);
      else fmt::print("Added {} {} toxic '{}' on proxy '{}'\n", stream, toxic.type, name, toxic.proxy);
      continue;
    } catch (const ApiError& error) {
      if (error.status() != 409) {
        throw CommandError(fmt::format("Failed to add toxic: failed to add toxic to proxy {}: AddToxic: {}",
                                       toxic.proxy, error.what()));
      }
    }
    // It exists already: set every attribute, so the result is the same as
    // on a first run (a jitter left out goes back to 0).
    nlohmann::json update = {{"attributes", toxic.attributes}, {"toxicity", toxic.toxicity}};
    if (toxic.for_ms) update["duration_ms"] = *toxic.for_ms;
    try {
      ctx.api.patch(toxics_path(toxic.proxy) + "/" + path_segment(name), update.dump());
    } catch (const ApiError& error) {
      throw CommandError(fmt::format("Failed to update toxic: UpdateToxic: {}", error.what()));
    }
    fmt::print("Updated toxic '{}' on proxy '{}'\n", name, toxic.proxy);
  }
}

void remove_shortcut(Context& ctx, const std::string& proxy, const std::string& type, Direction direction) {
  for (const auto& stream : streams_of(direction)) {
    const std::string name = type + "_" + stream;
    try {
      ctx.api.remove(toxics_path(proxy) + "/" + path_segment(name));
      fmt::print("Removed toxic '{}' on proxy '{}'\n", name, proxy);
    } catch (const ApiError& error) {
      // "Make sure it is gone" succeeds when it was never there; a missing
      // proxy is still an error.
      if (error.status() != 404 || std::string(error.what()).find("toxic") == std::string::npos) {
        throw CommandError(fmt::format("Failed to remove toxic: RemoveToxic: {}", error.what()));
      }
      fmt::print("No toxic '{}' on proxy '{}'\n", name, proxy);
    }
  }
}

void clear_toxics(Context& ctx, const std::string& proxy) {
  const Proxy current = fetch_proxy(ctx, proxy);
  if (current.toxics.empty()) return fmt::print("Proxy {} has no toxics\n", proxy);
  for (const auto& toxic : current.toxics) {
    try {
      ctx.api.remove(toxics_path(proxy) + "/" + path_segment(toxic.name));
    } catch (const ApiError& error) {
      if (error.status() == 404) continue;  // removed by someone else meanwhile: the goal is met
      throw CommandError(fmt::format("Failed to remove toxic: RemoveToxic: {}", error.what()));
    }
    fmt::print("Removed toxic '{}' on proxy '{}'\n", toxic.name, proxy);
  }
}

}  // namespace faultline::cli
