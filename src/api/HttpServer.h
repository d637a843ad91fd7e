#pragma once
// The admin API's HTTP/1.1 server (keep-alive, Expect: 100-continue, chunked
// bodies, a body size limit, timeouts for silent clients). Runs on the thread
// that calls run(). The HTTP library stays inside HttpServer.cpp.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/HttpTypes.h"

namespace faultline::api {

// TLS for the API: PEM files. With `client_ca`, a client must show a
// certificate that authority signed (mutual TLS).
struct TlsFiles {
  std::string certificate;  // the server's certificate chain
  std::string key;          // its private key
  std::string client_ca;    // optional
};

struct HttpServerOptions {
  std::string host = "localhost";
  std::string port = "8474";
  size_t body_limit = 4 * 1024 * 1024;
  size_t header_limit = 64 * 1024;   // request line and headers; larger: 431
  size_t max_connections = 1024;     // over it, the connection idle longest is closed
  std::chrono::milliseconds read_timeout{15000};
  std::chrono::milliseconds idle_timeout{60000};
  std::optional<TlsFiles> tls;       // set: https only
};

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();

  // Binds the API address(es) (and reads the TLS files). Returns an error
  // text ("listen tcp ...: bind: address already in use") or an empty string.
  std::string bind();
  std::vector<std::string> addresses() const;  // what it listens on
  // Serves until stop(); `on_signal` runs (on this thread) for SIGINT/SIGTERM.
  void run(std::function<void(int)> on_signal);
  void stop();
  void stop_accepting();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::api
