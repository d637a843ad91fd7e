#include "cli/ApiClient.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <optional>

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION "dev"
#endif

namespace faultline::cli {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// A whole exchange (resolve, connect, write, read) must finish within this;
// the API never waits on the data plane, so anything slower is a hang.
constexpr auto kRequestTimeout = std::chrono::seconds(15);

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// Turns an error body into the message the reference CLI shows: the JSON
// "error" field when there is one, else the raw text.
std::string error_message(int status, const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
    return parsed["error"].get<std::string>();
  }
  std::string text = body;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text.empty() ? std::string(http::obsolete_reason(static_cast<http::status>(status))) : text;
}

struct Target {
  std::string host, port, host_header;
  http::request<http::string_body> request;
};

// Where the exchange stopped, so the caller can tell "never reached the
// server" from "the server said something odd".
enum class Stage { Connecting, Handshake, Exchanging };

template <class Stream>
net::awaitable<http::response<http::string_body>> write_and_read(Stream& stream, Target& target) {
  co_await http::async_write(stream, target.request, net::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // a big `GET /proxies` is still fine
  co_await http::async_read(stream, buffer, parser, net::use_awaitable);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return parser.release();
}

// One exchange; over TLS when `tls` is given (Stage::Handshake while it shakes hands).
net::awaitable<http::response<http::string_body>> exchange(Target& target, Stage& stage, ssl::context* tls) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  stream.expires_after(kRequestTimeout);
  const auto endpoints = co_await resolver.async_resolve(target.host, target.port, net::use_awaitable);
  co_await stream.async_connect(endpoints, net::use_awaitable);
  if (!tls) {
    stage = Stage::Exchanging;
    co_return co_await write_and_read(stream, target);
  }
  stage = Stage::Handshake;
  beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
  if (!::SSL_set_tlsext_host_name(secure.native_handle(), target.host.c_str()))
    throw boost::system::system_error(beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
  co_await secure.async_handshake(ssl::stream_base::client, net::use_awaitable);
  stage = Stage::Exchanging;
  co_return co_await write_and_read(secure, target);
}

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string_view(v) != "0" && std::string_view(v) != "false";
}
std::string env_text(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

ClientSecurity& client_security() {
  static ClientSecurity settings{env_text("FAULTLINE_API_TOKEN"), env_text("FAULTLINE_CACERT"), env_text("FAULTLINE_CLIENT_CERT"),
                                 env_text("FAULTLINE_CLIENT_KEY"), env_set("FAULTLINE_INSECURE")};
  return settings;
}

// The TLS settings of one client, made once from client_security().
struct ApiClient::Tls {
  ssl::context context{ssl::context::tls_client};
  explicit Tls(const std::string& host) {
    const ClientSecurity& s = client_security();
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (s.insecure) {
      context.set_verify_mode(ssl::verify_none);
    } else {
      if (s.cacert.empty()) context.set_default_verify_paths(ec);
      else context.load_verify_file(s.cacert, ec);
      if (ec) throw std::invalid_argument(fmt::format("cannot read the CA file '{}': {}", s.cacert, ec.message()));
      context.set_verify_mode(ssl::verify_peer);
      context.set_verify_callback(ssl::host_name_verification(host));
    }
    if (!s.cert.empty()) {
      context.use_certificate_chain_file(s.cert, ec);
      if (ec) throw std::invalid_argument(fmt::format("cannot read the client certificate '{}': {}", s.cert, ec.message()));
      context.use_private_key_file(s.key.empty() ? s.cert : s.key, ssl::context::pem, ec);
      if (ec) throw std::invalid_argument(fmt::format("cannot read the client key '{}': {}", s.key, ec.message()));
    }
  }
};

ApiClient::~ApiClient() = default;
ApiClient::ApiClient(ApiClient&&) noexcept = default;

ApiError::ApiError(int status, const std::string& message)
    : std::runtime_error(fmt::format("HTTP {}: {}", status, message)), status_(status) {}

ApiClient::ApiClient(const std::string& base_url) {
  std::string rest = base_url;
  const bool https = rest.starts_with("https://");
  if (https) rest = rest.substr(8);
  else if (rest.starts_with("http://")) rest = rest.substr(7);
  if (rest.find("://") != std::string::npos) throw std::invalid_argument(fmt::format("unsupported URL '{}'", base_url));
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  // "TOKEN@host:8474" (or "user:TOKEN@"): the token, which never goes into the Host header.
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    token_ = colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
    authority = authority.substr(at + 1);
  }
  if (token_.empty()) token_ = client_security().token;
  prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  // "[::1]:8474" keeps its brackets in the Host header but not for the resolver.
  const auto colon = authority.rfind(':');
  const bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
  host_ = has_port ? authority.substr(0, colon) : authority;
  port_ = has_port ? authority.substr(colon + 1) : (https ? "443" : "80");
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
  if (host_.empty() || port_.empty()) throw std::invalid_argument(fmt::format("invalid URL '{}'", base_url));
  base_url_ = (https ? "https://" : "http://") + authority + prefix_;
  if (https) tls_ = std::make_unique<Tls>(host_);
}

std::string ApiClient::send(const std::string& method, const std::string& path, const std::string& body) {
  Target target{host_, port_, {}, {}};
  auto& request = target.request;
  request.method_string(method);
  request.target(prefix_ + path);
  request.version(11);
  const size_t scheme = tls_ ? 8 : 7;
  request.set(http::field::host, base_url_.substr(scheme, base_url_.size() - scheme - prefix_.size()));
  if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
  request.set(http::field::user_agent, "faultline-cli/" FAULTLINE_VERSION);
  request.set(http::field::accept, "application/json");
  if (method == "POST" || method == "PATCH") {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();

  net::io_context context;
  Stage stage = Stage::Connecting;
  std::optional<http::response<http::string_body>> response;
  std::exception_ptr failure;
  net::co_spawn(context, exchange(target, stage, tls_ ? &tls_->context : nullptr), [&](std::exception_ptr error, http::response<http::string_body> reply) {
    failure = error;
    if (!error) response = std::move(reply);
  });
  context.run();

  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& error) {
      if (error.code() == beast::error::timeout) throw UnreachableError("no answer within 15 s");
      if (stage == Stage::Connecting) throw UnreachableError(lower_first(error.code().message()));
      if (stage == Stage::Handshake)
        throw UnreachableError(fmt::format("the TLS handshake failed ({}); is it an https API, and is its certificate "
                                           "trusted (--cacert, or --insecure to skip the check)?",
                                           lower_first(error.code().message())));
      if (error.code().category() == net::error::get_ssl_category())
        throw UnreachableError(fmt::format("the server ended the TLS session ({}); does it want a client certificate (--cert, --key)?",
                                           lower_first(error.code().message())));
      throw UnreachableError(fmt::format("the connection failed before a reply ({}); is this a faultline or Toxiproxy API?",
                                         lower_first(error.code().message())));
    }
  }
  const int status = static_cast<int>(response->result_int());
  if (status < 200 || status > 299) throw ApiError(status, error_message(status, response->body()));
  return std::move(response->body());
}

std::string path_segment(const std::string& name) {
  std::string out;
  for (const unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace faultline::cli
