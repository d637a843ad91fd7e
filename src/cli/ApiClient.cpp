#include "cli/ApiClient.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <optional>

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION "dev"
#endif

namespace faultline::cli {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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
enum class Stage { Connecting, Exchanging };

net::awaitable<http::response<http::string_body>> exchange(Target& target, Stage& stage) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  stream.expires_after(kRequestTimeout);
  const auto endpoints = co_await resolver.async_resolve(target.host, target.port, net::use_awaitable);
  co_await stream.async_connect(endpoints, net::use_awaitable);
  stage = Stage::Exchanging;
  co_await http::async_write(stream, target.request, net::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // a big `GET /proxies` is still fine
  co_await http::async_read(stream, buffer, parser, net::use_awaitable);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return parser.release();
}

}  // namespace

ApiError::ApiError(int status, const std::string& message)
    : std::runtime_error(fmt::format("HTTP {}: {}", status, message)), status_(status) {}

ApiClient::ApiClient(const std::string& base_url) {
  std::string rest = base_url;
  if (rest.starts_with("https://")) throw std::invalid_argument("https is not supported: the API speaks plain http");
  if (rest.starts_with("http://")) rest = rest.substr(7);
  if (rest.find("://") != std::string::npos) throw std::invalid_argument(fmt::format("unsupported URL '{}'", base_url));
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  // "[::1]:8474" keeps its brackets in the Host header but not for the resolver.
  const auto colon = authority.rfind(':');
  const bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
  host_ = has_port ? authority.substr(0, colon) : authority;
  port_ = has_port ? authority.substr(colon + 1) : "80";
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
  if (host_.empty() || port_.empty()) throw std::invalid_argument(fmt::format("invalid URL '{}'", base_url));
  base_url_ = "http://" + authority + prefix_;
}

std::string ApiClient::send(const std::string& method, const std::string& path, const std::string& body) {
  Target target{host_, port_, {}, {}};
  auto& request = target.request;
  request.method_string(method);
  request.target(prefix_ + path);
  request.version(11);
  request.set(http::field::host, base_url_.substr(7, base_url_.size() - 7 - prefix_.size()));
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
  net::co_spawn(context, exchange(target, stage), [&](std::exception_ptr error, http::response<http::string_body> reply) {
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
