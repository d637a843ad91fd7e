#include "server/GoFlags.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace faultline {

std::optional<std::chrono::nanoseconds> parse_go_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  // A bare number is seconds.
  {
    double seconds = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc() && p == text.data() + text.size())
      return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(seconds * 1e9)));
  }
  static const std::pair<const char*, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    double value = 0;
    auto [after, ec] = std::from_chars(p, end, value);
    if (ec != std::errc()) return std::nullopt;
    p = after;
    const char* unit_end = p;
    while (unit_end < end && !(*unit_end >= '0' && *unit_end <= '9') && *unit_end != '.') ++unit_end;
    const std::string unit(p, unit_end);
    bool matched = false;
    for (const auto& [name, scale] : kUnits)
      if (unit == name) total += value * scale, matched = true;
    if (!matched) return std::nullopt;
    p = unit_end;
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
}

void GoFlags::add_bool(const std::string& name, bool* target, const std::string& help) {
  flags_.push_back({name, Kind::Bool, target, help, *target ? "true" : "false"});
}
void GoFlags::add_string(const std::string& name, std::string* target, const std::string& help) {
  flags_.push_back({name, Kind::String, target, help, *target});
}
void GoFlags::add_int(const std::string& name, int64_t* target, const std::string& help) {
  flags_.push_back({name, Kind::Int, target, help, std::to_string(*target)});
}
void GoFlags::add_duration(const std::string& name, std::chrono::nanoseconds* target, const std::string& help) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*target).count();
  flags_.push_back({name, Kind::Duration, target, help, ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms)});
}

GoFlags::Flag* GoFlags::find(const std::string& name) {
  for (auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

bool GoFlags::was_set(const std::string& name) const {
  for (const auto& f : flags_)
    if (f.name == name) return f.set;
  return false;
}

std::optional<std::string> GoFlags::assign(Flag& flag, const std::string& value) {
  flag.set = true;
  switch (flag.kind) {
    case Kind::Bool:
      if (value == "true" || value == "1" || value == "t" || value == "T" || value == "TRUE" || value == "True")
        *static_cast<bool*>(flag.target) = true;
      else if (value == "false" || value == "0" || value == "f" || value == "F" || value == "FALSE" || value == "False")
        *static_cast<bool*>(flag.target) = false;
      else return fmt::format("invalid boolean value \"{}\" for flag -{}: use true or false", value, flag.name);
      return std::nullopt;
    case Kind::String: *static_cast<std::string*>(flag.target) = value; return std::nullopt;
    case Kind::Int: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size())
        return fmt::format("invalid value \"{}\" for flag -{}: expected a whole number", value, flag.name);
      *static_cast<int64_t*>(flag.target) = v;
      return std::nullopt;
    }
    case Kind::Duration: {
      auto d = parse_go_duration(value);
      if (!d || d->count() < 0)
        return fmt::format("invalid value \"{}\" for flag -{}: expected a duration such as 5s or 250ms", value, flag.name);
      *static_cast<std::chrono::nanoseconds*>(flag.target) = *d;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::string> GoFlags::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) return fmt::format("unexpected argument \"{}\"", argv[i + 1]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-')
      return fmt::format("unexpected argument \"{}\" (flags start with -, see -help)", arg);
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "h" || name == "help") {
      help_requested_ = true;
      return std::nullopt;
    }
    Flag* flag = find(name);
    if (!flag) return fmt::format("flag provided but not defined: -{}", name);
    if (!value) {
      if (flag->kind == Kind::Bool) value = "true";
      else if (i + 1 < argc) value = argv[++i];
      else return fmt::format("flag needs an argument: -{}", name);
    }
    if (auto error = assign(*flag, *value)) return error;
  }
  return std::nullopt;
}

std::string GoFlags::usage() const {
  std::string out = fmt::format("Usage of {}:\n", program_);
  for (const auto& f : flags_) {
    const char* type = f.kind == Kind::Bool ? "" : f.kind == Kind::String ? " string" : f.kind == Kind::Int ? " int" : " duration";
    out += fmt::format("  -{}{}\n    \t{}", f.name, type, f.help);
    if (f.kind != Kind::Bool && !f.default_text.empty()) out += fmt::format(" (default {})", f.kind == Kind::String ? "\"" + f.default_text + "\"" : f.default_text);
    out += "\n";
  }
  return out;
}

}  // namespace faultline
