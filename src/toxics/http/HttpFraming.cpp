#include "toxics/http/HttpFraming.h"

#include <boost/beast/http/basic_parser.hpp>
#include <strings.h>

#include "util/BeastChunkGuard.h"

namespace faultline::http {

namespace beast_http = boost::beast::http;

std::optional<std::string_view> HttpHead::field(std::string_view name) const {
  for (const auto& [k, v] : fields)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return std::string_view(v);
  return std::nullopt;
}

std::string_view HttpHead::path() const {
  const std::string_view t = target;
  return t.substr(0, t.find('?'));
}

// The parser behind HttpFraming: Beast's, keeping the head and throwing
// the body away (the stage forwards the original bytes).
class HttpFraming::Parser {
 public:
  virtual ~Parser() = default;
  virtual size_t put(std::string_view bytes, boost::system::error_code& ec) = 0;
  virtual bool header_done() const = 0;
  virtual bool done() const = 0;
  virtual HttpHead head() const = 0;  // once header_done()
  virtual int status() const = 0;
};

namespace {

template <bool isRequest>
class HeadKeeper final : public HttpFraming::Parser, private beast_http::basic_parser<isRequest> {
  using base = beast_http::basic_parser<isRequest>;
  using string_view = boost::beast::string_view;
  using error_code = boost::system::error_code;

 public:
  explicit HeadKeeper(bool no_body) {
    base::header_limit(HttpFraming::kHeadLimit);
    base::body_limit(boost::none);  // bodies are streamed through, whatever their size
    base::eager(false);             // stop after the head, so its end is known
    if (no_body) base::skip(true);
  }
  size_t put(std::string_view bytes, error_code& ec) override {
    if (!guard_.may_put(bytes.size())) {
      ec = beast_http::error::need_more;
      return 0;
    }
    const size_t used = base::put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
    guard_.record(bytes.size(), used, ec == beast_http::error::need_more);
    return used;
  }
  bool header_done() const override { return base::is_header_done(); }
  bool done() const override { return base::is_done(); }
  int status() const override { return head_.status; }
  HttpHead head() const override {
    HttpHead h = head_;
    h.keep_alive = base::keep_alive();
    h.upgrade = base::upgrade();
    return h;
  }

 private:
  void on_request_impl(beast_http::verb, string_view method, string_view target, int, error_code&) override {
    head_.method.assign(method.data(), method.size());
    head_.target.assign(target.data(), target.size());
  }
  void on_response_impl(int code, string_view, int, error_code&) override { head_.status = code; }
  void on_field_impl(beast_http::field, string_view name, string_view value, error_code&) override {
    head_.fields.emplace_back(std::string(name.data(), name.size()), std::string(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override { return body.size(); }
  void on_finish_impl(error_code&) override {}

  HttpHead head_;
  BeastChunkGuard guard_;
};

bool interim(int status) { return status >= 100 && status < 200 && status != 101; }

}  // namespace

HttpFraming::HttpFraming(Side side) : side_(side) { start_message(); }
HttpFraming::~HttpFraming() = default;

void HttpFraming::expect_response(bool to_head_request) {
  no_body_.push_back(to_head_request);
  // The parser for the next response was made before this request was
  // known; until it has read a byte it can still learn it has no body.
  if (fresh_ && no_body_.size() == 1 && to_head_request) start_message();
}

void HttpFraming::start_message() {
  head_reported_ = false;
  fresh_ = true;
  if (side_ == Side::Requests) parser_ = std::make_unique<HeadKeeper<true>>(false);
  else parser_ = std::make_unique<HeadKeeper<false>>(!no_body_.empty() && no_body_.front());
}

void HttpFraming::message_done(uint64_t at, std::vector<FramingEvent>& events) {
  // An interim response (100 Continue) answers nothing yet: the request's
  // real response comes next.
  if (side_ == Side::Responses && !interim(parser_->status()) && !no_body_.empty()) no_body_.pop_front();
  events.push_back(FramingEvent{FramingEvent::Kind::MessageEnd, at, {}});
  start_message();
}

bool HttpFraming::feed(std::string_view bytes, std::vector<FramingEvent>& events) {
  if (!error_.empty()) return false;
  uint64_t base = fed_;
  fed_ += bytes.size();
  std::string_view data = bytes;
  if (!pending_.empty()) {
    pending_.append(bytes);
    data = pending_;
    base = pending_at_;
  }
  size_t pos = 0;
  for (;;) {
    if (parser_->done()) message_done(base + pos, events);
    if (pos == data.size()) break;
    boost::system::error_code ec;
    fresh_ = false;
    const size_t used = parser_->put(data.substr(pos), ec);
    pos += used;
    if (!head_reported_ && parser_->header_done()) {
      head_reported_ = true;
      events.push_back(FramingEvent{FramingEvent::Kind::HeadEnd, base + pos, parser_->head()});
    }
    if (ec == beast_http::error::need_more) break;
    if (ec) {
      error_ = ec.message();
      pending_.clear();
      return false;
    }
    if (used == 0 && !parser_->done()) break;
  }
  // What the parser did not take yet (part of a head or of a chunk line) waits for the next bytes.
  std::string rest(data.substr(pos));
  pending_at_ = base + pos;
  pending_ = std::move(rest);
  if (pending_.size() > kHeadLimit) {
    error_ = "a head or chunk line longer than 64 KB";
    pending_.clear();
    return false;
  }
  return true;
}

}  // namespace faultline::http
