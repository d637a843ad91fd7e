// Schedules from the command line: flap, ramp and wave create one on the
// server (it runs there, not here); `schedules`, `schedule rm` and
// `schedule apply` manage them; --wait follows one in the foreground and
// cancels it, with the server's clean-up, on Ctrl+C.
#include <csignal>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/Commands.h"
#include "config/ConfigFile.h"
#include "config/YamlConfig.h"

namespace faultline::cli {
namespace {

std::atomic<bool> interrupted{false};

const std::string kSchedules = "/faultline/schedules";

nlohmann::json parse_reply(const std::string& body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    throw CommandError("The server answered with something that is not JSON: " + body.substr(0, 200));
  }
}

std::string describe(const nlohmann::json& s) {
  const std::string kind = s.value("kind", "");
  if (kind == "flap")
    return fmt::format("flap, {}: {} ms up / {} ms down, {}", s.value("mode", ""), s.value("up_ms", 0), s.value("down_ms", 0),
                       s.value("iterations", 0) == 0 ? std::string("until cancelled") : fmt::format("{} cycles", s.value("iterations", 0)));
  if (kind == "ramp")
    return fmt::format("ramp of {} from {} to {} over {} ms", s.value("attribute", ""), s["from"].dump(), s["to"].dump(),
                       s.value("duration_ms", 0));
  if (kind == "wave")
    return fmt::format("wave of {} between {} and {}, period {} ms", s.value("attribute", ""), s["min"].dump(), s["max"].dump(),
                       s.value("period_ms", 0));
  return kind;
}

}  // namespace

void create_schedule(Context& ctx, const nlohmann::json& body, bool wait) {
  std::string reply;
  try {
    reply = ctx.api.post(kSchedules, body.dump());
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to create schedule: {}", error.what()));
  }
  if (ctx.style.json && !wait) return print_json(reply);
  const nlohmann::json s = parse_reply(reply);
  fmt::print("Started schedule '{}' on proxy '{}' ({})\n", s.value("name", ""), s.value("proxy", ""), describe(s));
  if (wait) follow_schedule(ctx, s.value("name", ""));
}

void follow_schedule(Context& ctx, const std::string& name) {
  interrupted = false;
  struct sigaction action {};
  action.sa_handler = [](int) { interrupted = true; };
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  std::string last_phase;
  int64_t last_iteration = -1;
  fmt::print("Following it; Ctrl+C cancels it (the server cleans up)\n");
  std::fflush(stdout);
  while (!interrupted) {
    nlohmann::json s;
    try {
      s = parse_reply(ctx.api.get(kSchedules + "/" + path_segment(name)));
    } catch (const ApiError& error) {
      throw CommandError(fmt::format("Schedule {} is gone: {}", name, error.what()));
    }
    const std::string phase = s.value("phase", "");
    const int64_t iteration = s.value("iteration", int64_t{0});
    if (phase != last_phase || iteration != last_iteration) {
      fmt::print("{}  phase {}  iteration {}  transitions {}\n", s.value("state", ""), phase, iteration,
                 s.value("transitions", int64_t{0}));
      std::fflush(stdout);
      last_phase = phase;
      last_iteration = iteration;
    }
    const std::string state = s.value("state", "");
    if (state == "finished" || state == "cancelled") return;
    for (int i = 0; i < 10 && !interrupted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  try {
    ctx.api.remove(kSchedules + "/" + path_segment(name));
  } catch (const ApiError& error) {
    if (error.status() != 404) throw CommandError(fmt::format("Failed to cancel schedule {}: {}", name, error.what()));
  }
  fmt::print("Cancelled schedule '{}'; what it changed is undone\n", name);
  std::fflush(stdout);
  std::exit(130);  // interrupted, as a shell reports Ctrl+C
}

void list_schedules(Context& ctx) {
  std::string reply;
  try {
    reply = ctx.api.get(kSchedules);
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to list schedules: {}", error.what()));
  }
  if (ctx.style.json) return print_json(reply);
  const nlohmann::json list = parse_reply(reply);
  if (!ctx.style.terminal) {
    for (const auto& s : list)
      fmt::print("{}\tproxy={}\tkind={}\tstate={}\tphase={}\titeration={}\ttransitions={}\n", s.value("name", ""),
                 s.value("proxy", ""), s.value("kind", ""), s.value("state", ""), s.value("phase", ""),
                 s.value("iteration", int64_t{0}), s.value("transitions", int64_t{0}));
    return;
  }
  if (list.empty()) return fmt::print("No schedules\n");
  Table table({"NAME", "PROXY", "WHAT", "STATE", "PHASE", "ITERATION", "NEXT"});
  for (const auto& s : list) {
    const std::string state = s.value("state", "");
    const Colour colour = state == "running" ? Colour::Green : state == "pending" ? Colour::Yellow : Colour::Dim;
    table.add_row({{s.value("name", "")}, {s.value("proxy", "")}, {describe(s)}, {state, colour}, {s.value("phase", "")},
                   {std::to_string(s.value("iteration", int64_t{0}))},
                   {s["next_at"].is_string() ? s["next_at"].get<std::string>() : "-"}});
  }
  fmt::print("{}", table.render(ctx.style.colour));
}

void remove_schedule(Context& ctx, const std::string& name) {
  try {
    ctx.api.remove(kSchedules + "/" + path_segment(name));
  } catch (const ApiError& error) {
    throw CommandError(fmt::format("Failed to remove schedule {}: {}", name, error.what()));
  }
  fmt::print("Removed schedule '{}'; what it changed is undone\n", name);
}

void apply_schedule_file(Context& ctx, const std::string& path, bool wait) {
  std::ifstream in(path);
  if (!in) throw CommandError(fmt::format("Cannot read {}", path));
  std::stringstream text;
  text << in.rdbuf();
  json::Value doc;
  try {
    doc = parse_yaml_config(text.str(), path);  // YAML, or JSON (a YAML document too)
  } catch (const std::exception& e) {
    throw CommandError(e.what());
  }
  if (!doc.is_array()) throw CommandError(fmt::format("{}: expected a list of schedules", path));
  std::string last;
  for (const auto& entry : doc) {
    const nlohmann::json body = nlohmann::json::parse(entry.dump());
    create_schedule(ctx, body, false);
    last = body.value("name", "");
  }
  if (wait && doc.size() == 1) follow_schedule(ctx, parse_reply(ctx.api.get(kSchedules)).back().value("name", last));
}

// The toxic type a ramp or wave of `attribute` creates when none is named:
// the type called like the attribute, else the first that has it.
std::string type_for_attribute(const std::string& attribute) {
  const ToxicType* match = find_toxic_type(attribute);
  if (match && match->find_attribute(attribute)) return match->name;
  for (const auto& type : all_toxic_types())
    if (type.find_attribute(attribute)) return type.name;
  throw CommandError(fmt::format("No toxic type has an attribute '{}'; name the toxic with --toxic or its type with --type "
                                 "(see: faultline toxic types)", attribute));
}

}  // namespace faultline::cli
