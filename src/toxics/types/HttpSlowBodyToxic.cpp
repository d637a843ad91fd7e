// http_slow_body: the body of a matching request's response reaches the
// client at `rate` bytes a second (its head goes at once): a server that
// streams slowly, a download over a poor link. Bytes are never held whole:
// what the client has not taken yet stays in the upstream's socket.
#include <fmt/format.h>

#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr IntegerKey kRate{3, "rate"};

class HttpSlowBodyStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    if (!selected(head)) return {};
    RequestVerdict v;
    v.response.body_rate = static_cast<uint64_t>(attribute(kRate));
    v.fault = fmt::format("slow body {} B/s", attribute(kRate));
    v.fault_kind = "slow_body";
    v.fault_status = "upstream";
    return v;
  }
};

}  // namespace

FAULTLINE_TOXIC_TYPE(HttpSlowBodyToxic) {
  ToxicType type = ToxicType::define("http_slow_body", "HttpSlowBodyToxic",
                                     "Streams the response bodies of matching HTTP requests at a set rate.");
  declare_request_match(type);
  type.attribute(kRate, integer_attribute("rate", 1, int64_t{1} << 40, "B/s", "bytes of the body per second"));
  type.attributes[kRate.index].default_value = int64_t{1024};
  type.both_streams = type.per_request_toxicity = true;
  return type.stage<HttpSlowBodyStage>();
}

}  // namespace faultline
