#pragma once
// A small synchronous HTTP/1.1 client for the Toxiproxy API, over http://
// or https:// (faultline-server's -api-tls-cert), sending the API token when
// one is set. Beast and OpenSSL stay in ApiClient.cpp so that only one
// translation unit pays for them.
#include <memory>
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

// What every ApiClient of the process sends and trusts: read from the
// environment at first use, then the CLI's flags may change it.
struct ClientSecurity {
  std::string token;      // Authorization: Bearer (FAULTLINE_API_TOKEN)
  std::string cacert;     // https: trust this PEM authority (FAULTLINE_CACERT); else the system's
  std::string cert, key;  // https: a client certificate for mutual TLS (FAULTLINE_CLIENT_CERT, FAULTLINE_CLIENT_KEY)
  bool insecure = false;  // https: do not check the server's certificate (FAULTLINE_INSECURE=1)
};
ClientSecurity& client_security();

class ApiClient {
 public:
  // `base_url` like "http://localhost:8474" or "https://TOKEN@host:8474" (a
  // missing scheme means http; a user name in it is the API token); throws
  // std::invalid_argument for anything else.
  explicit ApiClient(const std::string& base_url);
  ~ApiClient();
  ApiClient(ApiClient&&) noexcept;

  const std::string& base_url() const { return base_url_; }

  // Each returns the body of a 2xx reply and throws ApiError otherwise.
  std::string get(const std::string& path) { return send("GET", path, ""); }
  std::string post(const std::string& path, const std::string& body) { return send("POST", path, body); }
  std::string patch(const std::string& path, const std::string& body) { return send("PATCH", path, body); }
  std::string remove(const std::string& path) { return send("DELETE", path, ""); }

  std::string send(const std::string& method, const std::string& path, const std::string& body);

 private:
  struct Tls;
  std::string base_url_;
  std::string host_;
  std::string port_;
  std::string prefix_;  // path part of the base URL, without the trailing '/'
  std::string token_;   // from the URL's user name, else client_security()
  std::unique_ptr<Tls> tls_;  // https only
};

// Percent-encodes one path segment (a proxy or toxic name).
std::string path_segment(const std::string& name);

}  // namespace faultline::cli
