#pragma once
// A small synchronous HTTP/1.1 client for the Toxiproxy API. Only plain
// http:// is supported (the API has never offered TLS). Beast stays in
// ApiClient.cpp so that only one translation unit pays for it.
#include <stdexcept>
#include <string>

namespace faultline::cli {

// The server answered with a non-2xx status. what() is "HTTP 404: proxy not
// found", the shape the reference CLI prints after its own context.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message);
  int status() const { return status_; }

 private:
  int status_;
};

// No HTTP exchange happened at all (refused, unresolvable, timed out).
// what() is the lower-case cause, e.g. "connection refused".
class UnreachableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ApiClient {
 public:
  // `base_url` like "http://localhost:8474" (a missing scheme means http);
  // throws std::invalid_argument for anything else.
  explicit ApiClient(const std::string& base_url);

  const std::string& base_url() const { return base_url_; }

  // Each returns the body of a 2xx reply and throws ApiError otherwise.
  std::string get(const std::string& path) { return send("GET", path, ""); }
  std::string post(const std::string& path, const std::string& body) { return send("POST", path, body); }
  std::string patch(const std::string& path, const std::string& body) { return send("PATCH", path, body); }
  std::string remove(const std::string& path) { return send("DELETE", path, ""); }

  std::string send(const std::string& method, const std::string& path, const std::string& body);

 private:
  std::string base_url_;
  std::string host_;
  std::string port_;
  std::string prefix_;  // path part of the base URL, without the trailing '/'
};

// Percent-encodes one path segment (a proxy or toxic name).
std::string path_segment(const std::string& name);

}  // namespace faultline::cli
