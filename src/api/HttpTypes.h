#pragma once
// The API's view of HTTP: a request in, a response out. Only api/HttpServer.cpp
// knows the HTTP library; everything else works on these plain structs.
#include <string>
#include <utility>
#include <vector>

namespace faultline::api {

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // path and query, as sent
  std::string user_agent;
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

}  // namespace faultline::api
