// http://: HTTP/1.1 requests on a keep-alive connection; a reply is checked
// for its status (--expect-status, or any 2xx) and read to its end with
// Beast's parser (Content-Length, chunked, or until close).
#include <boost/beast/http/basic_parser.hpp>
#include <strings.h>

#include <optional>

#include "load/Codec.h"
#include "load/LoadTarget.h"
#include "util/BeastChunkGuard.h"

namespace faultline::load {
namespace {

namespace http = boost::beast::http;

// Reads a reply and keeps only its status: bodies are counted and thrown
// away, whatever their size.
class ReplyParser final : public http::basic_parser<false> {
 public:
  int status = 0;

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::system::error_code;
  void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { status = code; }
  void on_field_impl(http::field, string_view, string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override { return body.size(); }
  void on_finish_impl(error_code&) override {}
};

std::string build_request(const TargetSpec& t) {
  const ProtocolOptions& o = t.options;
  const Endpoint& e = t.endpoints.front();
  std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  std::string r = o.method + " " + t.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(e.port) + "\r\n";
  bool has_agent = false;
  for (const auto& [name, value] : o.headers) {
    r += name + ": " + value + "\r\n";
    if (strcasecmp(name.c_str(), "user-agent") == 0) has_agent = true;
  }
  if (!has_agent) r += "User-Agent: faultline-load\r\n";
  if (!o.body.empty() || o.method == "POST" || o.method == "PUT" || o.method == "PATCH")
    r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
  r += "\r\n" + o.body;
  return r;
}

class HttpCodec final : public Codec {
 public:
  explicit HttpCodec(const TargetSpec& t)
      : request_(build_request(t)), expect_(t.options.expect_status), head_(t.options.method == "HEAD") {}

  size_t next_request(std::string& out) override {
    out = request_;
    expect(out);
    return 0;
  }

  void expect(std::string_view) override {
    parser_.emplace();
    parser_->body_limit(boost::none);  // bodies are skipped, whatever their size
    parser_->header_limit(64 * 1024);
    parser_->eager(true);
    if (head_) parser_->skip(true);
    guard_.reset();
    fed_ = 0;
  }

  ReplyCheck check_reply(std::string_view received) override {
    ReplyCheck r;
    // Only the bytes not yet given to the parser are new.
    while (fed_ < received.size() && !parser_->is_done()) {
      boost::system::error_code ec;
      const size_t available = received.size() - fed_;
      if (!guard_.may_put(available)) break;
      const size_t used = parser_->put(boost::asio::buffer(received.data() + fed_, available), ec);
      guard_.record(available, used, ec == http::error::need_more);
      fed_ += used;  // even with need_more, what it used is not to be given again
      if (ec == http::error::need_more) break;
      if (ec) {
        r.state = ReplyState::Mismatch;
        r.problem = "bad HTTP reply: " + ec.message();
        return r;
      }
      if (used == 0) break;
    }
    if (!parser_->is_done()) return r;
    const int status = parser_->status;
    r.consumed = fed_;
    r.close_after = !parser_->keep_alive();
    if (expect_ ? status != expect_ : (status < 200 || status > 299)) {
      r.state = ReplyState::Mismatch;
      r.problem = "HTTP status " + std::to_string(status);
      return r;
    }
    r.state = ReplyState::Complete;
    return r;
  }

 private:
  std::string request_;
  int expect_;
  bool head_;
  std::optional<ReplyParser> parser_;
  BeastChunkGuard guard_;
  size_t fed_ = 0;
};

}  // namespace

std::unique_ptr<Codec> make_http_codec(const TargetSpec& target, uint64_t) { return std::make_unique<HttpCodec>(target); }

}  // namespace faultline::load
