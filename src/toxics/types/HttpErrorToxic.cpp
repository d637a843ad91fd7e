// http_error: answers matching requests itself with `status` (and `body`,
// `headers`, `retry_after`) without forwarding them; the connection stays
// open, and the requests after it still reach the upstream, in order. The
// answer has a Content-Length, so keep-alive clients read it and go on.
#include <boost/beast/http/status.hpp>
#include <fmt/format.h>
#include <strings.h>

#include <memory>

#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr IntegerKey kStatus{3, "status"};
constexpr StringKey kBody{4, "body"};
constexpr MapKey kHeaders{5, "headers"};
constexpr IntegerKey kRetryAfter{6, "retry_after"};

bool has_header(const StringMap& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return true;
  return false;
}

class HttpErrorStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    if (!match_ || match_config_ != &config()) {  // made once per version of the toxic
      match_ = std::make_unique<RequestMatch>(attribute(kMatchMethod), attribute(kMatchPath), attribute(kMatchHeaders));
      match_config_ = &config();
    }
    if (!match_->matches(head) || !drawn()) return {};
    const int status = static_cast<int>(attribute(kStatus));
    RequestVerdict v;
    v.action = RequestVerdict::Action::Answer;
    v.fault = std::to_string(status);
    v.answer = answer(status, head);
    return v;
  }

  std::string answer(int status, const HttpHead& head) const {
    const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    const StringMap& headers = attribute(kHeaders);
    std::string body = attribute(kBody);
    if (body.empty()) body = fmt::format("{} {} (faultline http_error {})\n", status, std::string_view(reason.data(), reason.size()), spec().name);
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, std::string_view(reason.data(), reason.size()));
    for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
    if (!has_header(headers, "content-type")) out += "Content-Type: text/plain; charset=utf-8\r\n";
    if (const int64_t retry = attribute(kRetryAfter); retry > 0) out += fmt::format("Retry-After: {}\r\n", retry);
    out += fmt::format("Content-Length: {}\r\n", body.size());
    if (!head.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    if (head.method != "HEAD") out += body;
    return out;
  }

  std::unique_ptr<RequestMatch> match_;
  const ToxicConfig* match_config_ = nullptr;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(HttpErrorToxic) {
  ToxicType type = ToxicType::define("http_error", "HttpErrorToxic",
                                     "Answers matching HTTP requests with an error status instead of forwarding them.");
  declare_request_match(type);
  type.attribute(kStatus, integer_attribute("status", 100, 599, "", "the status it answers with"))
      .attribute(kBody, string_attribute("body", 16384, "the body of the answer (none: a line naming the status and the toxic)"))
      .attribute(kHeaders, map_attribute("headers", 32, "headers added to the answer"))
      .attribute(kRetryAfter, integer_attribute("retry_after", 0, 86400, "s", "a Retry-After header, in seconds (0: none)"));
  type.attributes[kStatus.index].default_value = int64_t{503};
  type.both_streams = type.per_request_toxicity = true;
  return type.stage<HttpErrorStage>();
}

}  // namespace faultline
