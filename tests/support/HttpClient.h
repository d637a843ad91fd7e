#pragma once
// A minimal HTTP/1.1 client for API tests: one connection per request
// (Connection: close), the whole response read and parsed.
#include <map>
#include <string>
#include <vector>

namespace faultline::test {

struct HttpResponse {
  int status = 0;
  std::string status_line;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(int port, std::string host = "127.0.0.1") : port_(port), host_(std::move(host)) {}

  HttpResponse request(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  HttpResponse get(const std::string& path) const { return request("GET", path); }
  HttpResponse post(const std::string& path, const std::string& body = "") const { return request("POST", path, body); }
  HttpResponse patch(const std::string& path, const std::string& body) const { return request("PATCH", path, body); }
  HttpResponse del(const std::string& path) const { return request("DELETE", path); }

  // Sends raw bytes on a new connection and returns everything read until the
  // server closes or `quiet_ms` pass without data.
  std::string raw(const std::string& bytes, int quiet_ms = 500) const;

  int port() const { return port_; }

 private:
  int port_;
  std::string host_;
};

// Parses one response from the start of `text`; `consumed` gets its length.
HttpResponse parse_response(const std::string& text, size_t* consumed = nullptr);

}  // namespace faultline::test
