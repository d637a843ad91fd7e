#pragma once
// The Toxiproxy v2 HTTP API: routing, middleware, request decoding and the
// status codes and bodies of every endpoint. Transport-free: it maps a
// Request to a Response and is driven by api/HttpServer.
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "api/ApiAccess.h"
#include "api/HttpTypes.h"
#include "control/Registry.h"

namespace faultline::api {

}  // namespace faultline::api
namespace faultline {
class Scheduler;
class EventJournal;
}
namespace faultline::api {

struct ApiOptions {
  std::string version;
  bool metrics_enabled = false;
  std::function<std::string()> render_metrics;  // Prometheus text
  // Called after every request that matched a route (route as a pattern: "/proxies/{proxy}").
  std::function<void(const std::string& method, const std::string& route, int status)> on_request;
  Scheduler* scheduler = nullptr;  // schedules and timed toxics; without one they are refused
  EventJournal* journal = nullptr;  // the event stream; without one it answers 503
  const ApiAccess* access = nullptr;  // who may do what (no token: anyone)
  // After every request that changed something, before it is answered:
  // the state file waits until the change is on disk.
  std::function<void()> after_change;
  // The server's own view for /faultline/server (JSON), and the warnings
  // it has about itself (the API exposed without a token), also sent as a
  // header with /faultline/stats.
  std::function<std::string()> server_json;
  std::vector<std::string> warnings;
  const std::atomic<bool>* ready = nullptr;  // /faultline/ready: 200 once set (the config applied)
};

class Api {
 public:
  Api(Registry& registry, ApiOptions options);
  Response handle(const Request& request);

  // The endpoints (api/Api.cpp lists them in its route table). `params`
  // holds the path's {proxy} and {toxic} segments, in order.
  using Params = std::vector<std::string>;
  Response proxies(const Request& r, const Params& params);
  Response proxy(const Request& r, const Params& params);
  Response toxics(const Request& r, const Params& params);
  Response toxic(const Request& r, const Params& params);
  Response populate(const Request& r, const Params& params);
  Response reset(const Request& r, const Params& params);
  Response version(const Request& r, const Params& params);
  Response metrics(const Request& r, const Params& params);
  Response stats(const Request& r, const Params& params);
  Response stats_stream(const Request& r, const Params& params);
  Response schedules(const Request& r, const Params& params);
  Response schedule(const Request& r, const Params& params);
  Response events(const Request& r, const Params& params);
  Response health(const Request& r, const Params& params);
  Response ready(const Request& r, const Params& params);
  Response server(const Request& r, const Params& params);
  Response toxic_types(const Request& r, const Params& params);

 private:
  Response route(const Request& request, const std::vector<std::string>& path);

  Registry& registry_;
  ApiOptions options_;
};

// The API status code of a control-plane refusal.
int status_for(ControlErrorKind kind);
// A query parameter's raw value ("/x?a=1&b" -> a: "1", b: ""); nothing when absent.
std::optional<std::string> query_parameter(const std::string& target, std::string_view name);

// "/proxies/with%20space" -> {"proxies", "with space"}; query ignored.
std::vector<std::string> split_path(const std::string& target);
std::string new_request_id();
// The route pattern a path matches, for metrics: "/proxies/{proxy}/toxics"; "" when none.
std::string route_pattern(const std::vector<std::string>& path);

}  // namespace faultline::api
