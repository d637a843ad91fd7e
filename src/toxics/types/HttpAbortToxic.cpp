// http_abort: the connection of a matching request ends abruptly, with an
// RST (`mode` reset) or a FIN (`mode` close), at a chosen point:
//   before_request  the upstream never sees the request;
//   after_request   the upstream gets it (and does what it does) but the
//                   client sees none of the response;
//   mid_response    the client gets the head and `after_bytes` bytes of the
//                   body (as sent, chunk framing included), then the end.
#include <fmt/format.h>

#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr EnumKey kAt{3, "at"};
constexpr IntegerKey kAfterBytes{4, "after_bytes"};
constexpr EnumKey kMode{5, "mode"};

class HttpAbortStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    if (!selected(head)) return {};
    const std::string& at = attribute(kAt);
    const bool reset = attribute(kMode) == "reset";
    RequestVerdict v;
    if (at == "before_request") {
      v.action = RequestVerdict::Action::Abort;
      v.reset = reset;
    } else {
      v.response.reset = reset;
      v.response.abort = at == "after_request" ? ResponsePlan::Abort::BeforeResponse : ResponsePlan::Abort::AfterBodyBytes;
      v.response.abort_after = static_cast<uint64_t>(attribute(kAfterBytes));
    }
    v.fault = fmt::format("{} {}", reset ? "reset" : "close", at == "before_request" ? "before request"
                                                         : at == "after_request" ? "after request"
                                                                                 : fmt::format("after {} bytes of the response body", attribute(kAfterBytes)));
    v.fault_kind = "abort";
    v.fault_status = reset ? "reset" : "closed";
    return v;
  }
};

}  // namespace

FAULTLINE_TOXIC_TYPE(HttpAbortToxic) {
  ToxicType type = ToxicType::define("http_abort", "HttpAbortToxic",
                                     "Ends the connection of matching HTTP requests before, after or in the middle of the exchange.");
  declare_request_match(type);
  type.attribute(kAt, enum_attribute("at", {"before_request", "after_request", "mid_response"},
                                     "before_request: the upstream never sees it; after_request: the client sees none of the "
                                     "response; mid_response: the client gets after_bytes of the body"))
      .attribute(kAfterBytes, integer_attribute("after_bytes", 0, int64_t{1} << 50, "bytes",
                                                "mid_response: body bytes the client gets before the end"))
      .attribute(kMode, enum_attribute("mode", {"reset", "close"}, "reset: RST; close: FIN"));
  type.both_streams = type.per_request_toxicity = true;
  return type.stage<HttpAbortStage>();
}

}  // namespace faultline
