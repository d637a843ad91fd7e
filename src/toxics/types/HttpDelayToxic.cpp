// http_delay: a matching request waits `delay` ms (plus jitter, drawn as
// latency draws it) before it is forwarded, or, with `at` "response", its
// response waits that long before its first byte reaches the client. Either
// way the requests and responses behind it on the connection wait too, as
// they would behind a slow request on the wire.
#include <fmt/format.h>

#include "toxics/AttributeRanges.h"
#include "toxics/LatencyDistribution.h"
#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr DurationKey kDelay{3, "delay"};
constexpr DurationKey kJitter{4, "jitter"};
constexpr EnumKey kDistribution{5, "distribution"};
constexpr NumberKey kCorrelation{6, "correlation"};
constexpr EnumKey kAt{7, "at"};

class HttpDelayStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    if (!selected(head)) return {};
    const Nanos jitter = distribution_.jitter(attribute(kJitter), latency_shape(attribute(kDistribution)), attribute(kCorrelation), rng());
    const Nanos delay = std::max(Nanos(0), Nanos(Millis(attribute(kDelay))) + jitter);
    const bool on_response = attribute(kAt) == "response";
    RequestVerdict v;
    if (on_response) v.response.delay = delay;
    else v.delay = delay;
    v.fault = fmt::format("{}delay {} ms", on_response ? "response " : "", std::chrono::duration_cast<Millis>(delay).count());
    v.fault_kind = "delay";
    v.fault_status = "upstream";
    return v;
  }

  LatencyDistribution distribution_;
};

}  // namespace

FAULTLINE_TOXIC_TYPE(HttpDelayToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("http_delay", "HttpDelayToxic",
                                     "Delays matching HTTP requests before they are forwarded, or their responses before the first byte.");
  declare_request_match(type);
  type.attribute(kDelay, duration_attribute("delay", 0, kYearMs, "ms", "how long the request (or its response) waits"))
      .attribute(kJitter, duration_attribute("jitter", 0, kYearMs, "ms", "random spread around delay, drawn per request as latency draws it"))
      .attribute(kDistribution, enum_attribute("distribution", {"uniform", "normal", "pareto", "paretonormal"},
                                               "how jitter spreads; other than uniform, jitter is the standard deviation"))
      .attribute(kCorrelation, number_attribute("correlation", 0, 1, "how much each request's draw follows the one before (0: independent)"))
      .attribute(kAt, enum_attribute("at", {"request", "response"},
                                     "request: before it is forwarded; response: before its first byte reaches the client"));
  type.attributes[kDelay.index].default_value = int64_t{1000};
  type.both_streams = type.per_request_toxicity = true;
  return type.stage<HttpDelayStage>();
}

}  // namespace faultline
