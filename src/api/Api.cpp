#include "api/Api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>

#include "api/JsonViews.h"
#include "api/ScheduleJson.h"
#include "schedule/ScheduleDecode.h"
#include "schedule/Scheduler.h"
#include "api/ToxicRequests.h"
#include "api/ToxicTypesJson.h"
#include "json/RequestBody.h"
#include "model/ApiError.h"
#include "model/Names.h"

namespace faultline::api {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";

Response json_response(int status, std::string body) { return Response{status, kJson, std::move(body), {}}; }
Response no_content() { return Response{204, "", "", {}}; }
Response method_not_allowed() { return Response{405, "", "", {}}; }

Response not_found_page() {
  return Response{404, kText, "404 page not found\n", {{"X-Content-Type-Options", "nosniff"}}};
}

// Handler errors: JSON, but labelled text/plain and ending in a newline, as Toxiproxy sends them.
Response error_response(const ApiError& e) {
  return Response{e.status(), kText, error_json(e.status(), e.what()) + "\n", {{"X-Content-Type-Options", "nosniff"}}};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The figures of every proxy, with the schedules running on each.
std::vector<ProxyMetricsView> stats_views(const Registry& registry, const Scheduler* scheduler) {
  std::vector<ProxyMetricsView> views = registry.metrics_views();
  if (scheduler)
    for (auto& v : views) v.schedules = scheduler->running_on(v.name);
  return views;
}

// Reads a proxy object; only type errors are reported here (see require_fields).
ProxySpec decode_proxy(const json::Value& doc) {
  json::expect_object(doc, "toxiproxy.Proxy");
  ProxySpec spec;
  spec.name = json::read_string(doc, "name", "Proxy.name").value_or("");
  spec.listen = json::read_string(doc, "listen", "Proxy.listen").value_or("");
  spec.upstream = json::read_string(doc, "upstream", "Proxy.upstream").value_or("");
  spec.enabled = json::read_bool(doc, "enabled", "Proxy.enabled").value_or(true);
  spec.protocol = json::read_string(doc, "protocol", "Proxy.protocol").value_or("tcp");
  return spec;
}

// A new proxy needs a name and an upstream; `where` locates it in a populate list.
void require_fields(const ProxySpec& spec, const std::string& where) {
  if (spec.name.empty()) throw ApiError(400, "missing required field: name" + where);
  if (auto problem = check_name_length("proxy", spec.name)) throw ApiError(400, *problem + where);
  if (spec.upstream.empty()) throw ApiError(400, "missing required field: upstream" + where);
  if (auto problem = check_protocol(spec.protocol)) throw ApiError(400, *problem + where);
}

}  // namespace

std::vector<std::string> split_path(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  // Decode the whole path first, then split: "/proxies/a%2Fb" has three segments.
  std::string decoded;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 && hex_value(path[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]));
      i += 2;
    } else {
      decoded += path[i];
    }
  }
  std::vector<std::string> segments;
  if (decoded.empty() || decoded[0] != '/') return segments;
  size_t start = 1;
  for (;;) {
    const size_t slash = decoded.find('/', start);
    segments.push_back(decoded.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::string new_request_id() {
  // 20 characters of lower-case base32hex, like the xids Toxiproxy sends.
  static std::atomic<uint64_t> counter{std::random_device{}()};
  static const uint64_t process_salt = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  const uint64_t now = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  uint64_t hi = (now / 1000000000ULL) << 24 | (process_salt & 0xFFFFFF);
  uint64_t lo = counter.fetch_add(1) ^ (process_salt << 24);
  constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuv";
  std::string id(20, '0');
  for (int i = 19; i >= 10; --i, lo >>= 5) id[static_cast<size_t>(i)] = kAlphabet[lo & 31];
  for (int i = 9; i >= 0; --i, hi >>= 5) id[static_cast<size_t>(i)] = kAlphabet[hi & 31];
  return id;
}

Api::Api(Registry& registry, ApiOptions options) : registry_(registry), options_(std::move(options)) {}

namespace {

// The routes, once: dispatch, 405s and the metrics label all read this table.
// A pattern segment in braces matches any non-empty segment and is passed to
// the handler in order.
struct RouteEntry {
  std::string_view pattern;
  std::vector<std::string_view> methods;  // empty: any method
  Response (Api::*handler)(const Request&, const std::vector<std::string>& params);
  bool metrics_only = false;              // exists only with -enable-metrics (or its env)
};

const std::vector<RouteEntry>& route_table() {
  static const std::vector<RouteEntry> routes = {
      {"/reset", {"POST"}, &Api::reset},
      {"/proxies", {"GET", "POST"}, &Api::proxies},
      {"/populate", {"POST"}, &Api::populate},
      {"/version", {"GET"}, &Api::version},
      {"/metrics", {}, &Api::metrics, true},
      {"/faultline/stats", {"GET"}, &Api::stats},
      {"/faultline/stats/stream", {"GET"}, &Api::stats_stream},
      {"/faultline/events", {"GET"}, &Api::events},
      {"/faultline/health", {"GET"}, &Api::health},
      {"/faultline/ready", {"GET"}, &Api::ready},
      {"/faultline/server", {"GET"}, &Api::server},
      {"/faultline/toxic-types", {"GET"}, &Api::toxic_types},
      {"/faultline/schedules", {"GET", "POST"}, &Api::schedules},
      {"/faultline/schedules/{schedule}", {"GET", "DELETE"}, &Api::schedule},
      {"/proxies/{proxy}", {"GET", "POST", "PATCH", "DELETE"}, &Api::proxy},
      {"/proxies/{proxy}/toxics", {"GET", "POST"}, &Api::toxics},
      {"/proxies/{proxy}/toxics/{toxic}", {"GET", "POST", "PATCH", "DELETE"}, &Api::toxic},
  };
  return routes;
}

// Whether `path` fits `pattern`; fills `params` with the braced segments.
bool matches(std::string_view pattern, const std::vector<std::string>& path, std::vector<std::string>& params) {
  params.clear();
  size_t i = 0;
  pattern.remove_prefix(1);
  while (!pattern.empty()) {
    const size_t slash = pattern.find('/');
    const std::string_view segment = pattern.substr(0, slash);
    pattern = slash == std::string_view::npos ? std::string_view() : pattern.substr(slash + 1);
    if (i >= path.size()) return false;
    if (segment.front() == '{') {
      if (path[i].empty()) return false;
      params.push_back(path[i]);
    } else if (path[i] != segment) {
      return false;
    }
    ++i;
  }
  return i == path.size();
}

const RouteEntry* find_route(const std::vector<std::string>& path, std::vector<std::string>& params) {
  for (const auto& r : route_table())
    if (matches(r.pattern, path, params)) return &r;
  return nullptr;
}

}  // namespace

std::string route_pattern(const std::vector<std::string>& p) {
  std::vector<std::string> params;
  const RouteEntry* r = find_route(p, params);
  return r ? std::string(r->pattern) : "";
}

namespace {

// "/token/TOKEN/proxies" -> "/proxies" with the token as a Bearer: for
// clients that take a base URL and cannot add a header (toxiproxy-node-client).
Request with_path_token(const Request& request) {
  Request r = request;
  const size_t start = 7;  // after "/token/"
  const size_t slash = r.target.find('/', start);
  const std::vector<std::string> token = split_path("/" + r.target.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
  r.authorization = "Bearer " + (token.empty() ? std::string() : token.front());
  r.target = slash == std::string::npos ? "/" : r.target.substr(slash);
  return r;
}

bool changes_something(const Request& r) { return r.method != "GET" && r.method != "HEAD" && r.method != "OPTIONS"; }

}  // namespace

Response Api::handle(const Request& request) {
  if (request.target.starts_with("/token/")) return handle(with_path_token(request));
  const auto path = split_path(request.target);
  Response response;
  if (options_.access && !options_.access->allows(request)) response = unauthorized_response(request);
  else response = route(request, path);
  if (changes_something(request) && response.status < 400 && options_.after_change) options_.after_change();
  if (options_.on_request) {
    const std::string pattern = route_pattern(path);
    if (!pattern.empty()) options_.on_request(request.method, pattern, response.status);
  }
  return response;
}

int status_for(ControlErrorKind kind) {
  switch (kind) {
    case ControlErrorKind::NotFound: return 404;
    case ControlErrorKind::AlreadyExists: return 409;
    case ControlErrorKind::Invalid: return 400;
    case ControlErrorKind::Unavailable: return 503;
    case ControlErrorKind::SystemFailure: return 500;
  }
  return 500;
}

Response Api::route(const Request& r, const std::vector<std::string>& p) {
  std::vector<std::string> params;
  const RouteEntry* entry = find_route(p, params);
  if (!entry || (entry->metrics_only && !options_.metrics_enabled)) return not_found_page();
  if (!entry->methods.empty() &&
      std::find(entry->methods.begin(), entry->methods.end(), r.method) == entry->methods.end())
    return method_not_allowed();

  Response response;
  if (r.user_agent.rfind("Mozilla/", 0) == 0 && !r.from_ui) {
    // Browsers are refused so that a web page cannot drive the API (CSRF).
    response = Response{403, kText, "User agent not allowed\n", {{"X-Content-Type-Options", "nosniff"}}};
  } else {
    try {
      response = (this->*entry->handler)(r, params);
    } catch (const ApiError& e) {
      response = error_response(e);
    } catch (const ControlError& e) {
      response = error_response(ApiError(status_for(e.kind()), e.what()));
    }
  }
  response.headers.emplace_back("X-Toxiproxy-Request-Id", new_request_id());
  return response;
}

Response Api::schedules(const Request& r, const std::vector<std::string>&) {
  if (!options_.scheduler) throw ApiError(503, "schedules are not available in this server");
  if (r.method == "GET") return json_response(200, schedules_json(options_.scheduler->list()));
  ScheduleSpec spec = decode_schedule(json::parse_request_body(r.body));
  return json_response(201, schedule_json(options_.scheduler->create(std::move(spec))));
}

Response Api::schedule(const Request& r, const std::vector<std::string>& params) {
  if (!options_.scheduler) throw ApiError(503, "schedules are not available in this server");
  if (r.method == "GET") return json_response(200, schedule_json(options_.scheduler->get(params.at(0))));
  options_.scheduler->cancel(params.at(0));
  return no_content();
}

Response Api::stats(const Request&, const std::vector<std::string>&) {
  Response response = json_response(200, stats_json(stats_views(registry_, options_.scheduler)));
  // The body is keyed by proxy name, so the server's warnings ride in a header.
  for (const auto& w : options_.warnings) response.headers.emplace_back("X-Faultline-Warning", w);
  return response;
}

Response Api::stats_stream(const Request& r, const std::vector<std::string>&) {
  // Server-sent events: the same figures as /faultline/stats, every
  // interval_ms (default 1000, from 50 to 60000), until the client goes.
  int64_t interval_ms = 1000;
  if (auto value = query_parameter(r.target, "interval_ms")) {
    char* end = nullptr;
    const long long parsed = std::strtoll(value->c_str(), &end, 10);
    if (value->empty() || *end != '\0' || parsed < 50 || parsed > 60000)
      throw ApiError(400, "invalid interval_ms: \"" + *value + "\" (allowed: 50 to 60000)");
    interval_ms = parsed;
  }
  Response response{200, "text/event-stream", "", {{"Cache-Control", "no-cache"}}};
  auto stream = std::make_shared<ResponseStream>();
  stream->interval = std::chrono::milliseconds(interval_ms);
  Registry* registry = &registry_;
  Scheduler* scheduler = options_.scheduler;
  stream->next = [registry, scheduler]() -> std::optional<std::string> {
    return "event: stats\ndata: " + stats_json(stats_views(*registry, scheduler)) + "\n\n";
  };
  response.stream = std::move(stream);
  return response;
}

std::optional<std::string> query_parameter(const std::string& target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string_view query(target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
  }
  return std::nullopt;
}

Response Api::proxies(const Request& r, const std::vector<std::string>&) {
  if (r.method == "GET") return json_response(200, proxy_map_json(registry_.list_proxies()));
  const ProxySpec spec = decode_proxy(json::parse_request_body(r.body));
  require_fields(spec, "");
  return json_response(201, proxy_json(registry_.create_proxy(spec)));
}

Response Api::proxy(const Request& r, const std::vector<std::string>& params) {
  const std::string& name = params.at(0);
  if (r.method == "GET") return json_response(200, proxy_json(registry_.get_proxy(name)));
  if (r.method == "DELETE") {
    registry_.delete_proxy(name);
    return no_content();
  }
  const ProxyView current = registry_.get_proxy(name);  // 404 comes before body errors
  const json::Value doc = json::parse_request_body(r.body);
  json::expect_object(doc, "toxiproxy.Proxy");
  ProxyPatch patch;
  patch.listen = json::read_string(doc, "listen", "Proxy.listen");
  patch.upstream = json::read_string(doc, "upstream", "Proxy.upstream");
  patch.enabled = json::read_bool(doc, "enabled", "Proxy.enabled");
  // A proxy keeps its protocol for life: a change is refused, not ignored.
  if (auto protocol = json::read_string(doc, "protocol", "Proxy.protocol"); protocol && *protocol != current.spec.protocol)
    throw ApiError(400, "invalid protocol \"" + *protocol + "\": a proxy's protocol cannot change (it is " +
                            current.spec.protocol + ")");
  return json_response(200, proxy_json(registry_.update_proxy(name, patch)));
}

Response Api::toxics(const Request& r, const std::vector<std::string>& params) {
  const std::string& proxy = params.at(0);
  if (r.method == "GET") return json_response(200, toxics_json(registry_.list_toxics(proxy)));
  registry_.get_proxy(proxy);
  auto exists = [&](const std::string& toxic) {
    try {
      registry_.get_toxic(proxy, toxic);
      return true;
    } catch (const ControlError&) {
      return false;
    }
  };
  ToxicSpec spec = decode_toxic_create(r.body, exists);
  return json_response(200, toxic_json(registry_.add_toxic(proxy, std::move(spec))));
}

Response Api::toxic(const Request& r, const std::vector<std::string>& params) {
  const std::string& proxy = params.at(0);
  const std::string& name = params.at(1);
  if (r.method == "GET") return json_response(200, toxic_json(registry_.get_toxic(proxy, name)));
  if (r.method == "DELETE") {
    registry_.remove_toxic(proxy, name);
    return no_content();
  }
  const ToxicSpec current = registry_.get_toxic(proxy, name);
  const ToxicPatch patch = decode_toxic_update(r.body, current);
  return json_response(200, toxic_json(registry_.update_toxic(proxy, name, patch)));
}

Response Api::populate(const Request& r, const std::vector<std::string>&) {
  // Populate reports its errors as application/json without a trailing
  // newline and with a "proxies" key, unlike every other endpoint.
  auto failure = [](const ApiError& e) {
    std::string body = error_json(e.status(), e.what());
    body.insert(body.size() - 1, ",\"proxies\":null");
    return json_response(e.status(), std::move(body));
  };
  try {
    const json::Value doc = json::parse_request_body(r.body);
    if (!doc.is_array() && !doc.is_null())
      throw BadRequestBody("json: cannot unmarshal " + json::describe_for_error(doc, false) +
                           " into Go value of type []toxiproxy.Proxy");
    // The whole list is decoded before any entry is validated, so a type
    // error anywhere wins over a missing field in an earlier entry.
    std::vector<PopulateEntry> entries;
    if (doc.is_array())
      for (const auto& item : doc) entries.push_back(PopulateEntry{decode_proxy(item), {}});
    for (size_t i = 0; i < entries.size(); ++i) require_fields(entries[i].spec, " at proxy " + std::to_string(i + 1));
    auto result = registry_.populate(entries);
    return json_response(201, populate_json(&result));
  } catch (const ApiError& e) {
    return failure(e);
  } catch (const ControlError& e) {
    return failure(ApiError(status_for(e.kind()), e.what()));
  }
}

Response Api::reset(const Request&, const std::vector<std::string>&) {
  registry_.reset();
  return no_content();
}

Response Api::health(const Request&, const std::vector<std::string>&) {
  return json_response(200, "{\"status\":\"ok\"}\n");
}

Response Api::ready(const Request&, const std::vector<std::string>&) {
  if (options_.ready && !options_.ready->load()) return json_response(503, "{\"status\":\"starting\"}\n");
  return json_response(200, "{\"status\":\"ready\"}\n");
}

Response Api::server(const Request&, const std::vector<std::string>&) {
  return json_response(200, options_.server_json ? options_.server_json() : "{}");
}

Response Api::toxic_types(const Request&, const std::vector<std::string>&) { return json_response(200, toxic_types_json()); }

Response Api::version(const Request&, const std::vector<std::string>&) {
  return Response{200, "application/json;charset=utf-8", "{\"version\": \"" + options_.version + "\"}\n", {}};
}

Response Api::metrics(const Request&, const std::vector<std::string>&) {
  return Response{200, "text/plain; version=0.0.4; charset=utf-8", options_.render_metrics ? options_.render_metrics() : "", {}};
}

}  // namespace faultline::api
