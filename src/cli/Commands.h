#pragma once
// What each CLI command does, independent of how its arguments are parsed.
// Every function prints its own success output and throws CommandError
// (one line for stderr) when the server refuses; UnreachableError from the
// ApiClient passes through so main can print the connection hint.
#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/ApiClient.h"
#include "cli/ApiModel.h"
#include "cli/Output.h"

namespace faultline::cli {

class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Context {
  ApiClient& api;
  OutputStyle style;
};

// --- the reference toxiproxy-cli commands -------------------------------
void list_proxies(Context& ctx);
void inspect_proxy(Context& ctx, const std::string& name);
void create_proxy(Context& ctx, const std::string& name, const std::string& listen, const std::string& upstream);
void toggle_proxy(Context& ctx, const std::string& name);
void delete_proxy(Context& ctx, const std::string& name);

// Lists the toxic types and their attributes (tab-separated, or markdown tables).
void print_toxic_types(bool markdown);
std::string toxic_type_names();  // "bandwidth, latency, ..."

// --- schedules (run by the server) --------------------------------------
// POSTs a schedule; with `wait`, follows it until it ends or Ctrl+C cancels it.
void create_schedule(Context& ctx, const nlohmann::json& body, bool wait);
void follow_schedule(Context& ctx, const std::string& name);
void list_schedules(Context& ctx);
void remove_schedule(Context& ctx, const std::string& name);
void apply_schedule_file(Context& ctx, const std::string& path, bool wait);
std::string type_for_attribute(const std::string& attribute);

// GET /proxies/NAME; a refusal becomes "Failed to retrieve proxy NAME: ...".
Proxy fetch_proxy(Context& ctx, const std::string& name);
// `GET /proxies` as sent by the server; one-line error when it fails.
std::string fetch_proxy_list(Context& ctx);

struct ToxicAddOptions {
  std::string proxy;
  std::string type;
  std::string name;                 // empty: the server's default name
  std::optional<double> toxicity;   // checked to be within 0..1
  std::vector<std::string> attributes;  // key=value
  bool upstream = false;
};
void add_toxic(Context& ctx, const ToxicAddOptions& options);
void update_toxic(Context& ctx, const std::string& proxy, const std::string& name, std::optional<double> toxicity,
                  const std::vector<std::string>& attributes);
void remove_toxic(Context& ctx, const std::string& proxy, const std::string& name);
void list_toxics(Context& ctx, const std::string& proxy);

// key=value pairs to a JSON object; numbers become JSON numbers (integers
// stay integers so the server's integer fields accept them).
nlohmann::json parse_attributes(const std::vector<std::string>& pairs);
void check_toxicity(std::optional<double> toxicity);

// Toxics as lines or a table, shared by inspect, toxic list and status.
void print_toxics(const Context& ctx, const std::vector<Toxic>& toxics);

// --- operator shortcuts --------------------------------------------------
enum class Direction { Up, Down, Both };
Direction parse_direction(const std::string& text);

void set_enabled(Context& ctx, const std::string& name, bool enabled);

// Adds `type` toxics named TYPE_upstream / TYPE_downstream, or updates them
// when they already exist (409), so re-running a shortcut is harmless.
struct ShortcutToxic {
  std::string proxy;
  std::string type;
  Direction direction = Direction::Down;
  nlohmann::json attributes;
  double toxicity = 1.0;
  std::optional<int64_t> for_ms;  // --for: a timed toxic
};
void apply_shortcut(Context& ctx, const ShortcutToxic& toxic);
// Removes the shortcut's toxics; a missing one is not an error.
void remove_shortcut(Context& ctx, const std::string& proxy, const std::string& type, Direction direction);
void clear_toxics(Context& ctx, const std::string& proxy);
void show_status(Context& ctx);

}  // namespace faultline::cli
