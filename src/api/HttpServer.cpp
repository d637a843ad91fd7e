#include "api/HttpServer.h"

#include <array>
#include <csignal>
#include <ctime>
#include <list>
#include <optional>

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "api/JsonViews.h"
#include "log/Log.h"
#include "net/ListenSocket.h"

namespace faultline::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Reply = http::response<http::string_body>;

// A note on coroutines: GCC 12 can destroy a temporary that appears in a
// co_await expression twice (the API died with heap corruption on every
// rejected request because of it). Everything a co_await uses below is a
// named local of the coroutine; no temporary is ever passed to one.

namespace {

std::string http_date() {
  char buf[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

Reply to_http(const Response& r, unsigned version, bool keep_alive) {
  Reply res{static_cast<http::status>(r.status), version};
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

bool is_disconnect(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::error::broken_pipe;
}

}  // namespace

// The TCP stream under a plain or a TLS stream (timeouts, shutdown).
beast::tcp_stream& tcp_of(beast::tcp_stream& stream) { return stream; }
beast::tcp_stream& tcp_of(TlsStream& stream) { return beast::get_lowest_layer(stream); }

// One API connection as the server keeps track of it, so that a client
// over the connection limit can take the place of the one that has waited
// longest without sending a request (a slow-loris or a forgotten keep-alive).
struct ApiConnection {
  beast::tcp_stream* stream = nullptr;
  bool waiting_for_request = true;
  std::chrono::steady_clock::time_point waiting_since = std::chrono::steady_clock::now();
};

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  // Declared before the io_context: destroying it destroys the sessions
  // still suspended in it, and each of them takes itself off this list.
  std::list<ApiConnection> connections;
  asio::io_context io{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::string> bound;
  asio::signal_set signals{io, SIGINT, SIGTERM};
  std::unique_ptr<ssl::context> tls;  // set: every connection speaks TLS

  // Reads the certificate, the key and the client CA; an error text or "".
  std::string configure_tls(const TlsFiles& files) {
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    context->use_certificate_chain_file(files.certificate, ec);
    if (ec) return "invalid value \"" + files.certificate + "\" for flag -api-tls-cert: " + ec.message();
    context->use_private_key_file(files.key, ssl::context::pem, ec);
    if (ec) return "invalid value \"" + files.key + "\" for flag -api-tls-key: " + ec.message();
    if (::SSL_CTX_check_private_key(context->native_handle()) != 1)
      return "invalid value \"" + files.key + "\" for flag -api-tls-key: it is not the key of the certificate in " + files.certificate;
    if (!files.client_ca.empty()) {
      context->load_verify_file(files.client_ca, ec);
      if (ec) return "invalid value \"" + files.client_ca + "\" for flag -api-tls-client-ca: " + ec.message();
      context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    tls = std::move(context);
    return "";
  }

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
      if (connections.size() >= options.max_connections && !evict_longest_waiting()) {
        beast::error_code ignored;
        socket.close(ignored);  // every connection is mid-request: the newcomer waits for none of them
        continue;
      }
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }

  // Closes the connection that has waited longest for a request. False when
  // every connection is busy with one.
  bool evict_longest_waiting() {
    ApiConnection* oldest = nullptr;
    for (auto& c : connections)
      if (c.waiting_for_request && (!oldest || c.waiting_since < oldest->waiting_since)) oldest = &c;
    if (!oldest) return false;
    oldest->waiting_for_request = false;  // not chosen twice
    oldest->stream->close();              // its session ends with operation_aborted
    return true;
  }

  template <class Stream>
  asio::awaitable<void> send(Stream& stream, Reply& reply) {
    tcp_of(stream).expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, reply, asio::as_tuple(asio::use_awaitable));
  }

  // Answers a request that will not be read to its end (too large, malformed)
  // and closes. The unread rest is drained for a moment first: closing a
  // socket with unread input sends a reset, which can reach the client
  // before the answer does and destroy it.
  template <class Stream>
  asio::awaitable<void> refuse(Stream& stream, Reply& reply) {
    co_await send(stream, reply);
    beast::error_code ignored;
    tcp_of(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_of(stream).expires_after(std::chrono::milliseconds(500));
    std::array<char, 16384> scratch;
    auto scratch_buffer = asio::buffer(scratch);
    for (size_t drained = 0; drained < options.body_limit + options.header_limit;) {
      auto [ec, n] = co_await stream.async_read_some(scratch_buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      drained += n;
    }
  }

  // What to answer a request the parser refused; nothing for a client that went away.
  std::optional<Reply> reply_to_read_error(const beast::error_code& ec, unsigned version) const {
    if (ec == http::error::body_limit) return to_http(too_large(), version, false);
    if (ec == http::error::header_limit)
      return to_http(simple_error(431, "request header too large: the limit is " +
                                           std::to_string(options.header_limit) + " bytes"),
                     11, false);
    if (is_disconnect(ec) || ec == http::error::partial_message) return std::nullopt;
    return to_http(Response{400, "text/plain; charset=utf-8", "400 Bad Request", {}}, 11, false);
  }

  Reply handle(const http::request<http::string_body>& req, std::shared_ptr<ResponseStream>& stream) {
    Request request{std::string(req.method_string()), std::string(req.target()),
                    std::string(req[http::field::user_agent]), req.body(), std::string(req["Last-Event-ID"]),
                    std::string(req[http::field::authorization]), std::string(req[http::field::origin]),
                    std::string(req[http::field::host]), std::string(req["Sec-Fetch-Site"]), std::string(req["X-Faultline-UI"])};
    Response response;
    try {
      response = handler(request);
    } catch (const std::exception& e) {
      log::error("api handler failed", {{"method", request.method}, {"path", request.target}, {"error", e.what()}});
      response = simple_error(500, e.what());
    }
    stream = response.stream;
    return to_http(response, req.version(), req.keep_alive());
  }

  // A streamed body: the headers with chunked encoding, then a chunk each
  // interval until the client goes away (or the server stops).
  template <class Stream>
  asio::awaitable<void> send_stream(Stream& stream, Reply& reply, std::shared_ptr<ResponseStream> body) {
    http::response<http::empty_body> head{reply.result(), reply.version()};
    for (const auto& field : reply) head.set(field.name_string(), field.value());
    head.erase(http::field::content_length);
    head.chunked(true);
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{head};
    tcp_of(stream).expires_never();
    auto [ec, n] = co_await http::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (!reply.body().empty()) {  // what the handler put before the stream
      auto opening = http::make_chunk(asio::buffer(reply.body()));
      auto [open_ec, open_n] = co_await asio::async_write(stream, opening, asio::as_tuple(asio::use_awaitable));
      if (open_ec) co_return;
    }
    asio::steady_timer timer(io);
    for (bool first = true;; first = false) {
      if (!first) {
        timer.expires_after(body->interval);
        auto [wait_ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (wait_ec) co_return;
      }
      std::optional<std::string> piece = body->next ? body->next() : std::nullopt;
      if (!piece) break;
      if (piece->empty()) continue;  // an empty chunk would end the body
      auto chunk = http::make_chunk(asio::buffer(*piece));
      tcp_of(stream).expires_after(std::chrono::seconds(30));  // a reader that stopped reading is let go
      auto [write_ec, written] = co_await asio::async_write(stream, chunk, asio::as_tuple(asio::use_awaitable));
      if (write_ec) co_return;
    }
    auto last = http::make_chunk_last();
    auto [last_ec, last_n] = co_await asio::async_write(stream, last, asio::as_tuple(asio::use_awaitable));
    (void)last_ec;
  }

  asio::awaitable<void> session(tcp::socket socket) {
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream);
      co_return;
    }
    TlsStream stream(std::move(socket), *tls);
    // The handshake is part of the request: it gets the read timeout.
    tcp_of(stream).expires_after(options.read_timeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      log::debug("api tls handshake failed", {{"error", ec.message()}});
      co_return;
    }
    co_await serve(stream);
  }

  // Requests and answers on one connection, until either side ends it.
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream) {
    connections.push_back(ApiConnection{&tcp_of(stream)});
    auto self = std::prev(connections.end());
    struct Forget {
      std::list<ApiConnection>& list;
      std::list<ApiConnection>::iterator entry;
      ~Forget() { list.erase(entry); }
    } forget{connections, self};

    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.body_limit);
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      self->waiting_for_request = true;
      self->waiting_since = std::chrono::steady_clock::now();
      // The whole header must arrive within the timeout: a client sending a
      // byte a second does not keep its connection for ever.
      tcp_of(stream).expires_after(first ? options.read_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      self->waiting_for_request = false;
      if (ec) {
        std::optional<Reply> refusal = reply_to_read_error(ec, 11);
        if (refusal) co_await refuse(stream, *refusal);
        break;
      }
      const unsigned version = parser.get().version();
      const bool expects_continue = beast::iequals(parser.get()[http::field::expect], "100-continue");
      if (expects_continue && !parser.is_done()) {
        http::response<http::empty_body> go_on{http::status::continue_, version};
        co_await http::async_write(stream, go_on, asio::as_tuple(asio::use_awaitable));
      }
      tcp_of(stream).expires_after(options.read_timeout);
      auto [ec2, n2] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec2) {
        std::optional<Reply> refusal = reply_to_read_error(ec2, version);
        if (refusal) co_await refuse(stream, *refusal);
        break;
      }
      std::shared_ptr<ResponseStream> body_stream;
      Reply reply = handle(parser.get(), body_stream);
      if (body_stream) {
        self->waiting_for_request = true;  // a long-lived stream may make room for a newcomer
        self->waiting_since = std::chrono::steady_clock::now();
        co_await send_stream(stream, reply, body_stream);
        break;
      }
      const bool keep_alive = reply.keep_alive();
      co_await send(stream, reply);
      if (!keep_alive) break;
    }
    beast::error_code ignored;
    tcp_of(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
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
  if (impl_->options.tls)
    if (std::string error = impl_->configure_tls(*impl_->options.tls); !error.empty()) return error;
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
