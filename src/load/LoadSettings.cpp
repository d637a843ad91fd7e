#include "load/LoadSettings.h"

#include <fmt/format.h>

#include "cli/Units.h"

namespace faultline::load {
namespace {

Nanos duration_field(const std::string& text, const std::string& field, int64_t min_ms, int64_t max_ms) {
  int64_t ms = 0;
  try {
    ms = cli::parse_duration_ms(text);
  } catch (const cli::UnitError& e) {
    throw std::invalid_argument(fmt::format("invalid {} \"{}\": {}", field, text, e.what()));
  }
  if (ms < min_ms || ms > max_ms)
    throw std::invalid_argument(fmt::format("invalid {} \"{}\" (allowed: {} ms to {} ms)", field, text, min_ms, max_ms));
  return std::chrono::milliseconds(ms);
}

ProtocolOptions protocol_of(const LoadSettings& s, FieldName name) {
  ProtocolOptions p;
  p.payload = s.payload;
  p.method = s.method;
  p.body = s.body;
  p.expect_status = s.expect_status;
  p.keys = s.keys;
  if (!s.mix.empty()) p.mix = parse_mix(s.mix);
  if (s.expect_status != 0 && (s.expect_status < 100 || s.expect_status > 599))
    throw std::invalid_argument(fmt::format("invalid {} {} (allowed: 100 to 599)", name("expect_status"), s.expect_status));
  if (s.keys == 0 || s.keys > 100'000'000)
    throw std::invalid_argument(fmt::format("invalid {} {} (allowed: 1 to 100000000)", name("keys"), s.keys));
  for (const auto& h : s.headers) {
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos)
      throw std::invalid_argument(fmt::format("invalid {} \"{}\" (allowed: \"Name: value\")", name("header"), h));
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    p.headers.emplace_back(h.substr(0, colon), value);
  }
  return p;
}

}  // namespace

std::string command_line_flag(const char* field) {
  std::string flag = std::string("--") + field;
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

LoadOptions to_load_options(const LoadSettings& s, FieldName name) {
  LoadOptions o;
  const ProtocolOptions p = protocol_of(s, name);
  if (s.targets.empty()) throw std::invalid_argument(fmt::format("{} is required (one or more target URLs)", name("targets")));
  for (const auto& url : s.targets) o.targets.push_back(parse_target(url, p));
  o.duration = duration_field(s.duration, name("duration"), 100, 86'400'000);
  o.warmup = duration_field(s.warmup, name("warmup"), 0, 3'600'000);
  o.timeout = duration_field(s.timeout, name("timeout"), 1, 600'000);
  o.interval = duration_field(s.interval, name("interval"), 100, 3'600'000);
  if (!s.rate.empty() && s.concurrency)
    throw std::invalid_argument(fmt::format("{} and {} exclude each other (open loop or closed loop)", name("rate"), name("concurrency")));
  if (!s.rate.empty()) o.rate = parse_request_rate(s.rate, name("rate"));
  else o.concurrency = s.concurrency ? s.concurrency : 16;
  if (o.concurrency > 100000)
    throw std::invalid_argument(fmt::format("invalid {} {} (allowed: 1 to 100000)", name("concurrency"), o.concurrency));
  if (s.connections == 0 || s.connections > 100000)
    throw std::invalid_argument(fmt::format("invalid {} {} (allowed: 1 to 100000)", name("connections"), s.connections));
  if (s.threads > 256) throw std::invalid_argument(fmt::format("invalid {} {} (allowed: 0 to 256)", name("threads"), s.threads));
  o.connections = s.connections;
  o.threads = s.threads;
  o.new_connections = s.new_connections;
  if (s.pipeline == 0 || s.pipeline > 1024)
    throw std::invalid_argument(fmt::format("invalid {} {} (allowed: 1 to 1024)", name("pipeline"), s.pipeline));
  if (s.pipeline > 1 && s.new_connections)
    throw std::invalid_argument(fmt::format("{} {} and {} exclude each other (a connection per request has one request on it)",
                                            name("pipeline"), s.pipeline, name("new_connections")));
  o.pipeline = s.pipeline;
  o.events_url = s.events;
  o.seed = s.seed;
  o.check_targets = s.check_targets;
  return o;
}

double parse_request_rate(const std::string& text, const std::string& what) {
  std::string number = text, unit = "s";
  if (const size_t slash = text.find('/'); slash != std::string::npos) {
    number = text.substr(0, slash);
    unit = text.substr(slash + 1);
  }
  double scale = 1;
  if (!number.empty() && (number.back() == 'k' || number.back() == 'K')) {
    scale = 1000;
    number.pop_back();
  }
  double value = 0;
  const bool ok = cli::parse_number(number, value) && (unit == "s" || unit == "m" || unit == "min");
  if (ok && (unit == "m" || unit == "min")) scale /= 60;
  value *= scale;
  if (!ok || !(value >= 0.1 && value <= 10'000'000))
    throw std::invalid_argument(
        fmt::format("invalid {} \"{}\" (allowed: 0.1/s to 10000000/s, as 2000/s, 5k/s or 120/m)", what, text));
  return value;
}

}  // namespace faultline::load
