#include "config/ConfigFile.h"

#include "config/RouteFile.h"

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "api/ToxicRequests.h"
#include "config/YamlConfig.h"
#include "schedule/ScheduleDecode.h"
#include "json/BoundedParse.h"
#include "json/RequestBody.h"
#include "model/ApiError.h"
#include "model/Names.h"
#include "net/SocketAddress.h"

namespace faultline {
namespace {

using json::Value;

// A real file lists a few hundred proxies at most; /dev/zero never ends.
constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;

Value parse_json(const std::string& text, const std::string& origin) {
  try {
    return json::parse_bounded(text, kMaxConfigDepth, true);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(fmt::format("{}: not valid JSON (at byte {}): {}", origin, e.byte, e.what()));
  } catch (const std::exception& e) {  // too deep, a number out of range
    throw ConfigError(fmt::format("{}: not a usable JSON config: {}", origin, e.what()));
  }
}

// What is wrong with the JSON type of an attribute's value, in a config file's words.
std::optional<std::string> config_type_problem(const AttributeSchema& schema, const Value& v) {
  switch (schema.type) {
    case AttributeType::Integer:
      if (!v.is_number_integer()) return "must be a whole number";
      break;
    case AttributeType::Duration:
      if (!v.is_number_integer() && !v.is_string()) return fmt::format("must be a whole number of {} or a duration such as \"250ms\"", schema.unit);
      break;
    case AttributeType::Number:
      if (!v.is_number()) return "must be a number";
      break;
    case AttributeType::String:
    case AttributeType::Enum:
      if (!v.is_string()) return "must be a text";
      break;
    case AttributeType::List:
    case AttributeType::CidrList:
      if (!v.is_array()) return "must be a list of texts";
      break;
    case AttributeType::Map:
      if (!v.is_object()) return "must be an object of texts";
      break;
  }
  return std::nullopt;
}

// A value as it appears in an error message (never throws, whatever its bytes).
std::string show(const Value& v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

class Validator {
 public:
  Validator(std::string origin, LoadedConfig& out) : origin_(std::move(origin)), out_(out) {}

  void document(const Value& doc) {
    if (!doc.is_array())
      fail(fmt::format("the file must hold a list (array) of proxies, found {}", json::describe_for_error(doc, false)));
    for (size_t i = 0; i < doc.size(); ++i) proxy(doc[i], i + 1);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw ConfigError(fmt::format("{}: {}", origin_, what)); }

  // A key written without a value (often a file cut short: "latency:" at the
  // end) would otherwise silently mean "the default".
  void refuse_nulls(const Value& entry, const std::string& where) const {
    for (auto it = entry.begin(); it != entry.end(); ++it)
      if (it.value().is_null())
        fail(fmt::format("{}: field \"{}\" has no value (null): give it one or leave the key out", where, it.key()));
  }
  [[noreturn]] void fail_field(const std::string& where, const std::string& field, const Value& value,
                               const std::string& allowed) const {
    fail(fmt::format("{}: field \"{}\" has value {}: {}", where, field, value.is_null() ? "null (or missing)" : show(value), allowed));
  }

  std::string text_field(const Value& entry, const std::string& where, const char* key, bool required,
                         const std::string& allowed) {
    const Value* v = json::find_member(entry, key);
    if (!v) {
      if (required) fail_field(where, key, Value(), allowed);
      return "";
    }
    if (!v->is_string() || (required && v->get<std::string>().empty())) fail_field(where, key, *v, allowed);
    return v->get<std::string>();
  }

  // host:port with a port in range; `min_port` is 0 for a listen address
  // (any free port) and 1 for an upstream (something must answer there).
  // Returns the port.
  uint16_t check_address(const std::string& where, const char* field, const std::string& value, uint16_t min_port,
                         const char* example) {
    const std::string allowed = fmt::format("expected host:port with a port from {} to 65535, e.g. \"{}\"", min_port, example);
    std::string error;
    auto hp = net::split_host_port(value, error);
    if (hp) {
      auto port = net::parse_port(hp->port, error);
      if (port && *port >= min_port) return *port;
      if (port) error = fmt::format("port {} cannot be used here", *port);
    }
    fail_field(where, field, Value(value), fmt::format("{} ({})", error, allowed));
  }

  // Two entries may not listen on the same fixed port of the same address
  // (or of a wildcard address, which covers them all): the second could
  // never start. Port 0 picks a free port each time and never clashes.
  void check_listen_unique(const std::string& where, const std::string& listen, uint16_t port) {
    if (port == 0) return;
    std::string error;
    const std::string address = canonical_listen_address(listen);
    auto host_of = [&](const std::string& a) {
      auto hp = net::split_host_port(a, error);
      return hp ? hp->host : std::string();
    };
    auto wildcard = [](const std::string& host) { return host.empty() || host == "::" || host == "0.0.0.0"; };
    for (const auto& [other_where, other_address, other_port] : listens_) {
      if (other_port != port) continue;
      const std::string h1 = host_of(address), h2 = host_of(other_address);
      if (address == other_address || wildcard(h1) || wildcard(h2))
        fail_field(where, "listen", Value(listen), fmt::format("{} listens there already", other_where));
    }
    listens_.emplace_back(where, address, port);
  }

  void proxy(const Value& entry, size_t index) {
    std::string where = fmt::format("proxy #{}", index);
    if (!entry.is_object()) fail(fmt::format("{}: expected an object with name, listen and upstream, found {}", where, show(entry)));
    static const std::set<std::string> known = {"name", "listen", "upstream", "enabled", "toxics", "protocol", "schedules"};
    refuse_nulls(entry, where);
    PopulateEntry e;
    e.spec.name = text_field(entry, where, "name", true, "a non-empty, unique proxy name is required");
    if (auto problem = check_name_length("proxy", e.spec.name))
      fail_field(where, "name", Value(e.spec.name.substr(0, 40) + "..."), *problem);
    where = fmt::format("proxy #{} (\"{}\")", index, e.spec.name);
    if (!names_.insert(e.spec.name).second)
      fail_field(where, "name", Value(e.spec.name), "another proxy in this file has the same name");
    for (auto it = entry.begin(); it != entry.end(); ++it)
      if (!known.count(it.key()))
        out_.warnings.push_back(fmt::format("{}: {}: unknown field \"{}\" ignored (known: name, listen, upstream, enabled, protocol, toxics, schedules)",
                                            origin_, where, it.key()));
    e.spec.listen = text_field(entry, where, "listen", true, "a listen address is required, e.g. \"127.0.0.1:26379\"");
    const uint16_t listen_port = check_address(where, "listen", e.spec.listen, 0, "127.0.0.1:26379");
    e.spec.upstream = text_field(entry, where, "upstream", true, "an upstream address is required, e.g. \"127.0.0.1:6379\"");
    check_address(where, "upstream", e.spec.upstream, 1, "127.0.0.1:6379");
    check_listen_unique(where, e.spec.listen, listen_port);
    if (const Value* protocol = json::find_member(entry, "protocol")) {
      if (!protocol->is_string() || check_protocol(protocol->get<std::string>()))
        fail_field(where, "protocol", *protocol, "must be \"tcp\" (the only protocol for now)");
      e.spec.protocol = protocol->get<std::string>();
    }
    if (const Value* enabled = json::find_member(entry, "enabled")) {
      if (!enabled->is_boolean()) fail_field(where, "enabled", *enabled, "must be true or false");
      e.spec.enabled = enabled->get<bool>();
    }
    if (const Value* toxics = json::find_member(entry, "toxics")) {
      if (!toxics->is_array()) fail_field(where, "toxics", *toxics, "must be a list of toxics");
      std::set<std::string> toxic_names;
      for (size_t t = 0; t < toxics->size(); ++t) {
        ToxicSpec spec = toxic((*toxics)[t], fmt::format("{}, toxic #{}", where, t + 1));
        if (!toxic_names.insert(spec.name).second)
          fail_field(fmt::format("{}, toxic #{}", where, t + 1), "name", Value(spec.name),
                     "another toxic of this proxy has the same name");
        e.toxics.push_back(std::move(spec));
      }
    }
    if (const Value* schedules = json::find_member(entry, "schedules")) {
      if (!schedules->is_array()) fail_field(where, "schedules", *schedules, "must be a list of schedules");
      for (size_t i = 0; i < schedules->size(); ++i) {
        const std::string at = fmt::format("{}, schedule #{}", where, i + 1);
        Value item = (*schedules)[i];
        if (!item.is_object()) fail(fmt::format("{}: expected an object with kind and its fields, found {}", at, show(item)));
        if (json::find_member(item, "proxy")) fail_field(at, "proxy", *json::find_member(item, "proxy"), "leave it out: a schedule listed under a proxy acts on that proxy");
        item["proxy"] = e.spec.name;
        try {
          out_.schedules.push_back(decode_schedule(item));
        } catch (const ApiError& err) {
          fail(fmt::format("{}: {}", at, err.what()));
        }
        for (size_t k = 0; k + 1 < out_.schedules.size(); ++k)
          if (out_.schedules[k].name == out_.schedules.back().name)
            fail_field(at, "name", Value(out_.schedules.back().name), "another schedule in this file has the same name");
      }
    }
    out_.proxies.push_back(std::move(e));
  }

  ToxicSpec toxic(const Value& entry, const std::string& where) {
    if (!entry.is_object()) fail(fmt::format("{}: expected an object with type and attributes, found {}", where, show(entry)));
    refuse_nulls(entry, where);
    const Value* type = json::find_member(entry, "type");
    std::string allowed_types;
    for (const auto& t : all_toxic_types()) allowed_types += (allowed_types.empty() ? "" : ", ") + t.name;
    const ToxicType* toxic_type = type && type->is_string() ? find_toxic_type(type->get<std::string>()) : nullptr;
    if (!toxic_type) fail_field(where, "type", type ? *type : Value(), "must be one of " + allowed_types);
    if (const Value* stream = json::find_member(entry, "stream")) {
      if (!stream->is_string() || !parse_direction(stream->get<std::string>()))
        fail_field(where, "stream", *stream, "must be \"upstream\" or \"downstream\"");
    }
    if (const Value* toxicity = json::find_member(entry, "toxicity")) {
      if (!toxicity->is_number() || toxicity->get<double>() < 0 || toxicity->get<double>() > 1)
        fail_field(where, "toxicity", *toxicity, "must be a number from 0 to 1");
    }
    if (const Value* attrs = json::find_member(entry, "attributes")) {
      if (!attrs->is_object()) fail_field(where, "attributes", *attrs, "must be an object of the type's attributes");
      for (auto it = attrs->begin(); it != attrs->end(); ++it) {
        const AttributeSchema* schema = toxic_type->find_attribute(it.key());
        if (!schema) {
          std::string names;
          for (const auto& a : toxic_type->attributes) names += (names.empty() ? "" : ", ") + a.name;
          fail_field(where, "attributes." + it.key(), it.value(),
                     fmt::format("{} has no such attribute (it has: {})", toxic_type->name, names.empty() ? "none" : names));
        }
        if (auto problem = config_type_problem(*schema, it.value()))
          fail_field(where, "attributes." + it.key(), it.value(), *problem);
        refuse_nulls(*attrs, where + ", attributes");
      }
    }
    try {
      // The API's own decoding and validation, on the parsed document.
      return api::decode_toxic_create(entry, [](const std::string&) { return false; });
    } catch (const ApiError& e) {
      fail(fmt::format("{}: {}", where, e.what()));
    }
  }

  std::string origin_;
  LoadedConfig& out_;
  std::set<std::string> names_;
  std::vector<std::tuple<std::string, std::string, uint16_t>> listens_;  // entry, resolved address, port
};

}  // namespace

LoadedConfig parse_config_text(const std::string& text, const std::string& origin, bool yaml) {
  if (text.size() > kMaxConfigBytes)
    throw ConfigError(fmt::format("{}: the file is larger than {} bytes", origin, kMaxConfigBytes));
  const Value doc = yaml ? parse_yaml_config(text, origin) : parse_json(text, origin);
  if (is_route_file(doc)) return routes_to_proxies(doc, origin);  // seed 002's chaos-proxy format
  LoadedConfig out;
  Validator(origin, out).document(doc);
  return out;
}

LoadedConfig load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("cannot read config file {}: {}", path, std::strerror(errno)));
  // Read at most one byte past the limit: /dev/zero or a huge file is refused, not swallowed.
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) throw ConfigError(fmt::format("cannot read config file {}: {}", path, std::strerror(errno)));
  const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  return parse_config_text(text, path, yaml);
}

}  // namespace faultline
