// http_error: answers matching requests itself with `status` (and `body`,
// `headers`, `retry_after`) without forwarding them; the connection stays
// open, and the requests after it still reach the upstream, in order.
#include "toxics/http/HttpAnswer.h"
#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr IntegerKey kStatus{3, "status"};
constexpr StringKey kBody{4, "body"};
constexpr MapKey kHeaders{5, "headers"};
constexpr IntegerKey kRetryAfter{6, "retry_after"};

class HttpErrorStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    if (!selected(head)) return {};
    const int status = static_cast<int>(attribute(kStatus));
    RequestVerdict v;
    v.action = RequestVerdict::Action::Answer;
    v.answer_status = status;
    const std::string toxic = "http_error " + spec().name;
    v.answer = error_answer({status, attribute(kBody), attribute(kHeaders), attribute(kRetryAfter), toxic}, head);
    v.fault = v.fault_status = std::to_string(status);
    v.fault_kind = "error";
    return v;
  }
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
