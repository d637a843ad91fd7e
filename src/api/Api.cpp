#include "api/Api.h"

#include <atomic>
#include <chrono>
#include <random>

#include "api/JsonViews.h"
#include "api/ToxicRequests.h"
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

// Reads a proxy object; only type errors are reported here (see require_fields).
ProxySpec decode_proxy(const json::Value& doc) {
  json::expect_object(doc, "toxiproxy.Proxy");
  ProxySpec spec;
  spec.name = json::read_string(doc, "name", "Proxy.name").value_or("");
  spec.listen = json::read_string(doc, "listen", "Proxy.listen").value_or("");
  spec.upstream = json::read_string(doc, "upstream", "Proxy.upstream").value_or("");
  spec.enabled = json::read_bool(doc, "enabled", "Proxy.enabled").value_or(true);
  return spec;
}

// A new proxy needs a name and an upstream; `where` locates it in a populate list.
void require_fields(const ProxySpec& spec, const std::string& where) {
  if (spec.name.empty()) throw ApiError(400, "missing required field: name" + where);
  if (auto problem = check_name_length("proxy", spec.name)) throw ApiError(400, *problem + where);
  if (spec.upstream.empty()) throw ApiError(400, "missing required field: upstream" + where);
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

std::string route_pattern(const std::vector<std::string>& p) {
  if (p.size() == 2 && p[0] == "faultline" && p[1] == "stats") return "/faultline/stats";
  if (p.size() == 1 && (p[0] == "reset" || p[0] == "proxies" || p[0] == "populate" || p[0] == "version" || p[0] == "metrics"))
    return "/" + p[0];
  if (p.empty() || p[0] != "proxies" || p.size() < 2 || p[1].empty()) return "";
  if (p.size() == 2) return "/proxies/{proxy}";
  if (p[2] != "toxics") return "";
  if (p.size() == 3) return "/proxies/{proxy}/toxics";
  if (p.size() == 4 && !p[3].empty()) return "/proxies/{proxy}/toxics/{toxic}";
  return "";
}

Response Api::handle(const Request& request) {
  const auto path = split_path(request.target);
  Response response = route(request, path);
  if (options_.on_request) {
    const std::string pattern = route_pattern(path);
    if (!pattern.empty()) options_.on_request(request.method, pattern, response.status);
  }
  return response;
}

Response Api::route(const Request& r, const std::vector<std::string>& p) {
  const std::string& m = r.method;
  // Which handler the path names; nullptr-like empty string: no route (404).
  enum class Route { None, Reset, Proxies, Populate, Proxy, Toxics, Toxic, Version, Metrics, Stats } route = Route::None;
  bool method_ok = false;
  if (p.size() == 1 && p[0] == "reset") route = Route::Reset, method_ok = m == "POST";
  else if (p.size() == 1 && p[0] == "proxies") route = Route::Proxies, method_ok = m == "GET" || m == "POST";
  else if (p.size() == 1 && p[0] == "populate") route = Route::Populate, method_ok = m == "POST";
  else if (p.size() == 1 && p[0] == "version") route = Route::Version, method_ok = m == "GET";
  else if (p.size() == 1 && p[0] == "metrics" && options_.metrics_enabled) route = Route::Metrics, method_ok = true;
  else if (p.size() == 2 && p[0] == "faultline" && p[1] == "stats") route = Route::Stats, method_ok = m == "GET";
  else if (p.size() == 2 && p[0] == "proxies" && !p[1].empty())
    route = Route::Proxy, method_ok = m == "GET" || m == "POST" || m == "PATCH" || m == "DELETE";
  else if (p.size() == 3 && p[0] == "proxies" && !p[1].empty() && p[2] == "toxics")
    route = Route::Toxics, method_ok = m == "GET" || m == "POST";
  else if (p.size() == 4 && p[0] == "proxies" && !p[1].empty() && p[2] == "toxics" && !p[3].empty())
    route = Route::Toxic, method_ok = m == "GET" || m == "POST" || m == "PATCH" || m == "DELETE";

  if (route == Route::None) return not_found_page();
  if (!method_ok) return method_not_allowed();

  Response response;
  if (r.user_agent.rfind("Mozilla/", 0) == 0) {
    // Browsers are refused so that a web page cannot drive the API (CSRF).
    response = Response{403, kText, "User agent not allowed\n", {{"X-Content-Type-Options", "nosniff"}}};
  } else {
    try {
      switch (route) {
        case Route::Reset: response = reset(); break;
        case Route::Proxies: response = proxies(r); break;
        case Route::Populate: response = populate(r); break;
        case Route::Version: response = version(); break;
        case Route::Metrics: response = metrics(); break;
        case Route::Stats: response = json_response(200, stats_json(registry_.metrics_views())); break;
        case Route::Proxy: response = proxy(r, p[1]); break;
        case Route::Toxics: response = toxics(r, p[1]); break;
        case Route::Toxic: response = toxic(r, p[1], p[3]); break;
        case Route::None: break;
      }
    } catch (const ApiError& e) {
      response = error_response(e);
    }
  }
  response.headers.emplace_back("X-Toxiproxy-Request-Id", new_request_id());
  return response;
}

Response Api::proxies(const Request& r) {
  if (r.method == "GET") return json_response(200, proxy_map_json(registry_.list_proxies()));
  const ProxySpec spec = decode_proxy(json::parse_request_body(r.body));
  require_fields(spec, "");
  return json_response(201, proxy_json(registry_.create_proxy(spec)));
}

Response Api::proxy(const Request& r, const std::string& name) {
  if (r.method == "GET") return json_response(200, proxy_json(registry_.get_proxy(name)));
  if (r.method == "DELETE") {
    registry_.delete_proxy(name);
    return no_content();
  }
  registry_.get_proxy(name);  // 404 comes before body errors
  const json::Value doc = json::parse_request_body(r.body);
  json::expect_object(doc, "toxiproxy.Proxy");
  ProxyPatch patch;
  patch.listen = json::read_string(doc, "listen", "Proxy.listen");
  patch.upstream = json::read_string(doc, "upstream", "Proxy.upstream");
  patch.enabled = json::read_bool(doc, "enabled", "Proxy.enabled");
  return json_response(200, proxy_json(registry_.update_proxy(name, patch)));
}

Response Api::toxics(const Request& r, const std::string& proxy) {
  if (r.method == "GET") return json_response(200, toxics_json(registry_.list_toxics(proxy)));
  registry_.get_proxy(proxy);
  auto exists = [&](const std::string& toxic) {
    try {
      registry_.get_toxic(proxy, toxic);
      return true;
    } catch (const ApiError&) {
      return false;
    }
  };
  ToxicSpec spec = decode_toxic_create(r.body, exists);
  return json_response(200, toxic_json(registry_.add_toxic(proxy, std::move(spec))));
}

Response Api::toxic(const Request& r, const std::string& proxy, const std::string& name) {
  if (r.method == "GET") return json_response(200, toxic_json(registry_.get_toxic(proxy, name)));
  if (r.method == "DELETE") {
    registry_.remove_toxic(proxy, name);
    return no_content();
  }
  const ToxicSpec current = registry_.get_toxic(proxy, name);
  const ToxicPatch patch = decode_toxic_update(r.body, current);
  return json_response(200, toxic_json(registry_.update_toxic(proxy, name, patch)));
}

Response Api::populate(const Request& r) {
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
  }
}

Response Api::reset() {
  registry_.reset();
  return no_content();
}

Response Api::version() const {
  return Response{200, "application/json;charset=utf-8", "{\"version\": \"" + options_.version + "\"}\n", {}};
}

Response Api::metrics() const {
  return Response{200, "text/plain; version=0.0.4; charset=utf-8", options_.render_metrics ? options_.render_metrics() : "", {}};
}

}  // namespace faultline::api
