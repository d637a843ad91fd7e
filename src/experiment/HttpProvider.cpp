// The http provider: one HTTP/1.1 exchange with Beast, on a blocking socket
// whose send and receive time out; https through OpenSSL, the certificate
// checked against the system's authorities and the host name unless
// `verify_tls` is false (the toolkit's default is to verify).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

#include <cmath>

#include "experiment/Providers.h"

namespace faultline::experiment {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace ssl = asio::ssl;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Url parse_url(const std::string& url) {
  Url u;
  u.tls = url.rfind("https://", 0) == 0;
  if (!u.tls && url.rfind("http://", 0) != 0) throw ActivityFailed("not an http:// or https:// URL: " + url);
  std::string rest = url.substr(u.tls ? 8 : 7);
  const size_t slash = rest.find('/');
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string authority = rest.substr(0, slash);
  const size_t colon = authority.rfind(':');
  const bool bracketed = !authority.empty() && authority.front() == '[';
  if (colon != std::string::npos && (!bracketed || authority.find(']') < colon)) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty()) throw ActivityFailed("no host in URL " + url);
  return u;
}

std::string query_of(const Json& arguments) {
  std::string q;
  for (const auto& [k, v] : arguments.items()) {
    q += q.empty() ? "?" : "&";
    q += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return q;
}

// A blocking socket, connected to the first address that answers, whose
// reads and writes time out after `timeout_s`.
void connect_with_timeout(tcp::socket& socket, const Url& url, double timeout_s) {
  tcp::resolver resolver(socket.get_executor());
  const auto endpoints = resolver.resolve(url.host, url.port);
  timeval limit{static_cast<time_t>(timeout_s), static_cast<suseconds_t>(std::fmod(timeout_s, 1.0) * 1e6)};
  for (const auto& endpoint : endpoints) {
    boost::system::error_code ec;
    socket.open(endpoint.endpoint().protocol(), ec);
    if (ec) continue;
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    socket.connect(endpoint.endpoint(), ec);
    if (!ec) return;
    socket.close();
  }
  throw ActivityFailed("cannot connect to " + url.host + ":" + url.port);
}

template <typename Stream>
http::response<http::string_body> send_and_read(Stream& stream, const http::request<http::string_body>& req) {
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser);
  return parser.release();
}

http::response<http::string_body> exchange(const Url& url, const http::request<http::string_body>& req, double timeout_s,
                                           bool verify_tls) {
  asio::io_context io;
  if (!url.tls) {
    tcp::socket socket(io);
    connect_with_timeout(socket, url, timeout_s);
    return send_and_read(socket, req);
  }
  ssl::context context(ssl::context::tls_client);
  if (verify_tls) {
    context.set_default_verify_paths();
    context.set_verify_mode(ssl::verify_peer);
  } else {
    context.set_verify_mode(ssl::verify_none);
  }
  ssl::stream<tcp::socket> stream(io, context);
  if (!::SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
    throw ActivityFailed("TLS: cannot set the server name " + url.host);
  if (verify_tls) stream.set_verify_callback(ssl::host_name_verification(url.host));
  connect_with_timeout(stream.next_layer(), url, timeout_s);
  stream.handshake(ssl::stream_base::client);
  // No TLS shutdown: waiting for the server's close_notify could take the
  // whole timeout, and the connection is closed right after anyway.
  return send_and_read(stream, req);
}

}  // namespace

Json run_http(const Json& p, const ActivityContext& context) {
  const Url url = parse_url(p["url"].get<std::string>());
  const std::string method = p.value("method", "GET");
  const double timeout_s = context.limit_s(p.contains("timeout") && p["timeout"].is_number() ? p["timeout"].get<double>() : 30.0);
  http::request<http::string_body> req;
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) throw ActivityFailed("unknown HTTP method \"" + method + "\"");
  req.method(verb);
  std::string target = url.target;
  const Json arguments = p.value("arguments", Json());
  if (arguments.is_object() && (verb == http::verb::get || verb == http::verb::delete_)) target += query_of(arguments);
  req.target(target);
  req.version(11);
  req.set(http::field::host, url.host + ":" + url.port);
  req.set(http::field::user_agent, "faultline-run");
  if (p.contains("headers") && p["headers"].is_object())
    for (const auto& [k, v] : p["headers"].items()) req.set(k, v.is_string() ? v.get<std::string>() : v.dump());
  if (!arguments.is_null() && verb != http::verb::get && verb != http::verb::delete_) {
    req.body() = arguments.is_string() ? arguments.get<std::string>() : arguments.dump();
    if (!p.contains("headers") || !p["headers"].contains("Content-Type")) req.set(http::field::content_type, "application/json");
  }
  req.prepare_payload();

  http::response<http::string_body> res;
  try {
    res = exchange(url, req, timeout_s, p.value("verify_tls", true));
  } catch (const boost::system::system_error& e) {
    const auto code = e.code();
    if (code == boost::asio::error::would_block || code == boost::asio::error::timed_out)
      throw ActivityFailed("no answer from " + p["url"].get<std::string>() + " within " + std::to_string(timeout_s) + " s");
    std::string why = code.message();
    if (code.category() == asio::error::get_ssl_category()) {
      char detail[256];
      ::ERR_error_string_n(static_cast<unsigned long>(code.value()), detail, sizeof detail);
      why = std::string("TLS: ") + detail + " (verify_tls: false skips the certificate check)";
    }
    throw ActivityFailed(p["url"].get<std::string>() + ": " + why);
  }
  Json out;
  out["status"] = res.result_int();
  Json headers = Json::object();
  for (const auto& field : res) headers[std::string(field.name_string())] = std::string(field.value());
  out["headers"] = headers;
  const Json parsed = Json::parse(res.body(), nullptr, false);
  out["body"] = parsed.is_discarded() ? Json(res.body()) : parsed;
  if (p.contains("expected_status")) {
    const Json& expected = p["expected_status"];
    const bool ok = expected.is_array() ? std::find(expected.begin(), expected.end(), out["status"]) != expected.end()
                                        : expected == out["status"];
    if (!ok) throw ActivityFailed("HTTP status " + out["status"].dump() + ", expected " + expected.dump());
  }
  return out;
}

}  // namespace faultline::experiment
