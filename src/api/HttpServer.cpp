#include "api/HttpServer.h"

#include <csignal>
#include <ctime>

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/JsonViews.h"
#include "log/Log.h"
#include "net/ListenSocket.h"

namespace faultline::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string http_date() {
  char buf[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

http::response<http::string_body> to_http(const Response& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::date, http_date());
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.body() = r.body;
  if (r.status != 204 && r.status != 304 && !(r.status >= 100 && r.status < 200)) res.content_length(r.body.size());
  res.keep_alive(keep_alive);
  return res;
}

Response simple_error(int status, const std::string& message) {
  return Response{status, "text/plain; charset=utf-8", error_json(status, message) + "\n",
                  {{"X-Content-Type-Options", "nosniff"}}};
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  asio::io_context io{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::string> bound;
  asio::signal_set signals{io, SIGINT, SIGTERM};

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: wait a little rather than spin.
        asio::steady_timer pause(io, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> write(beast::tcp_stream& stream, const Response& r, unsigned version, bool keep_alive) {
    auto res = to_http(r, version, keep_alive);
    stream.expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.body_limit);
      parser.header_limit(64 * 1024);
      stream.expires_after(first ? options.read_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::body_limit) {
        co_await write(stream, too_large(), 11, false);
        break;
      }
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
          ec == asio::error::eof)
        break;
      if (ec) {
        co_await write(stream, Response{400, "text/plain; charset=utf-8", "400 Bad Request", {}}, 11, false);
        break;
      }
      auto& header = parser.get();
      const bool expects_continue = beast::iequals(header[http::field::expect], "100-continue");
      if (expects_continue && !parser.is_done()) {
        http::response<http::empty_body> cont{http::status::continue_, header.version()};
        co_await http::async_write(stream, cont, asio::as_tuple(asio::use_awaitable));
      }
      stream.expires_after(options.read_timeout);
      auto [ec2, n2] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec2 == http::error::body_limit) {
        co_await write(stream, too_large(), header.version(), false);
        break;
      }
      if (ec2) break;
      const auto& req = parser.get();
      Request request{std::string(req.method_string()), std::string(req.target()),
                      std::string(req[http::field::user_agent]), req.body()};
      Response response;
      try {
        response = handler(request);
      } catch (const std::exception& e) {
        log::error("api handler failed", {{"method", request.method}, {"path", request.target}, {"error", e.what()}});
        response = simple_error(500, e.what());
      }
      const bool keep_alive = req.keep_alive();
      co_await write(stream, response, req.version(), keep_alive);
      if (!keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  Response too_large() const {
    return simple_error(413, "request body too large: the limit is " + std::to_string(options.body_limit) + " bytes");
  }
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() = default;

std::string HttpServer::bind() {
  // "localhost" means both loopback addresses, so that clients which resolve
  // it to ::1 first (Node 17+) reach the API as well as those that pick 127.0.0.1.
  std::vector<std::string> listens;
  if (impl_->options.host == "localhost")
    listens = {"127.0.0.1:" + impl_->options.port, "[::1]:" + impl_->options.port};
  else if (impl_->options.host.find(':') != std::string::npos && impl_->options.host.front() != '[')
    listens = {"[" + impl_->options.host + "]:" + impl_->options.port};
  else
    listens = {impl_->options.host + ":" + impl_->options.port};
  for (size_t i = 0; i < listens.size(); ++i) {
    net::ListenResult r = net::open_listen_socket(listens[i], 1024);
    if (r.fd < 0) {
      if (i > 0) continue;  // the second loopback address is a bonus (no IPv6 here)
      return r.error;
    }
    const auto endpoint_family = r.address.front() == '[' ? tcp::v6() : tcp::v4();
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
    acceptor->assign(endpoint_family, r.fd);
    impl_->bound.push_back(r.address);
    impl_->acceptors.push_back(std::move(acceptor));
  }
  return "";
}

std::vector<std::string> HttpServer::addresses() const { return impl_->bound; }

void HttpServer::run(std::function<void(int)> on_signal) {
  for (auto& acceptor : impl_->acceptors) asio::co_spawn(impl_->io, impl_->accept_loop(*acceptor), asio::detached);
  // Every signal is reported (a second one during the grace period means "now").
  std::function<void()> wait_for_signal;
  wait_for_signal = [this, on_signal, &wait_for_signal] {
    impl_->signals.async_wait([on_signal, &wait_for_signal](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (on_signal) on_signal(signal);
      wait_for_signal();
    });
  };
  wait_for_signal();
  impl_->io.run();
}

void HttpServer::stop_accepting() {
  asio::post(impl_->io, [this] {
    for (auto& a : impl_->acceptors) {
      boost::system::error_code ignored;
      a->close(ignored);
    }
  });
}

void HttpServer::stop() { impl_->io.stop(); }

}  // namespace faultline::api
