#pragma once
// The Toxiproxy v2 HTTP API: routing, middleware, request decoding and the
// status codes and bodies of every endpoint. Transport-free: it maps a
// Request to a Response and is driven by api/HttpServer.
#include <functional>
#include <string>

#include "api/HttpTypes.h"
#include "control/Registry.h"

namespace faultline::api {

struct ApiOptions {
  std::string version;
  bool metrics_enabled = false;
  std::function<std::string()> render_metrics;  // Prometheus text
  // Called after every request that matched a route (route as a pattern: "/proxies/{proxy}").
  std::function<void(const std::string& method, const std::string& route, int status)> on_request;
};

class Api {
 public:
  Api(Registry& registry, ApiOptions options);
  Response handle(const Request& request);

 private:
  Response route(const Request& request, const std::vector<std::string>& path);
  Response proxies(const Request& r);
  Response proxy(const Request& r, const std::string& name);
  Response toxics(const Request& r, const std::string& proxy);
  Response toxic(const Request& r, const std::string& proxy, const std::string& name);
  Response populate(const Request& r);
  Response reset();
  Response version() const;
  Response metrics() const;

  Registry& registry_;
  ApiOptions options_;
};

// "/proxies/with%20space" -> {"proxies", "with space"}; query ignored.
std::vector<std::string> split_path(const std::string& target);
std::string new_request_id();
// The route pattern a path matches, for metrics: "/proxies/{proxy}/toxics"; "" when none.
std::string route_pattern(const std::vector<std::string>& path);

}  // namespace faultline::api
