#pragma once
// The API's view of HTTP: a request in, a response out. Only api/HttpServer.cpp
// knows the HTTP library; everything else works on these plain structs.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline::api {

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // path and query, as sent
  std::string user_agent;
  std::string body;
  std::string last_event_id;  // the Last-Event-ID header: where a reconnecting event stream resumes
  std::string authorization;  // the Authorization header (the API token)
  // For the web UI's checks (api/WebUi.h): where a browser says the call comes from.
  std::string origin;      // Origin
  std::string host;        // Host
  std::string fetch_site;  // Sec-Fetch-Site
  std::string ui_token;    // X-Faultline-UI
  bool from_ui = false;    // set by WebUi once the call passed its checks
};

// A response whose body keeps coming (server-sent events): after the
// headers, `next` is called every `interval` and what it returns is sent at
// once (an empty string: nothing this time); nothing (nullopt) ends the
// stream, which also stops when the client goes away.
struct ResponseStream {
  std::chrono::milliseconds interval{1000};
  std::function<std::optional<std::string>()> next;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::shared_ptr<ResponseStream> stream;  // set: `body` is sent first, then the stream
};

}  // namespace faultline::api
