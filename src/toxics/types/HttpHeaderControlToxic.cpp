// http_header_control: faults the caller asks for, request by request, in
// fields of the request itself (as Envoy's x-envoy-fault-* headers), so a
// test can aim at exactly the request it is about:
//
//   x-faultline-abort: 503            answered with that status, not forwarded
//   x-faultline-abort: reset | close  the connection ends before the upstream sees it
//   x-faultline-delay: 200            the request waits 200 ms before it is forwarded
//   x-faultline-response-delay: 200   its response waits 200 ms before its first byte
//   x-faultline-slow-body: 1024       its response body comes at 1024 bytes/s
//
// Every x-faultline-* field is taken out before the request is forwarded,
// whether it asked for a fault or not. A value that is not understood asks
// for nothing. Delays are capped at `max_delay`; the toxic's matchers and
// toxicity choose which requests may ask at all.
#include <fmt/format.h>
#include <strings.h>

#include <charconv>

#include "toxics/AttributeRanges.h"
#include "toxics/http/HttpAnswer.h"
#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr DurationKey kMaxDelay{3, "max_delay"};

std::optional<int64_t> whole_number(std::optional<std::string_view> text, int64_t max) {
  if (!text) return std::nullopt;
  std::string_view t = *text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end != t.data() + t.size() || n < 0) return std::nullopt;
  return std::min(n, max);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

class HttpHeaderControlStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    RequestVerdict v;
    v.strip_control_fields = true;
    if (!selected(head)) return v;
    const int64_t max_delay = attribute(kMaxDelay);
    std::vector<std::string> asked;
    if (auto ms = whole_number(head.field("x-faultline-delay"), max_delay); ms && *ms > 0) {
      v.delay = Millis(*ms);
      asked.push_back(fmt::format("delay {} ms", *ms));
      v.fault_kind = "delay";
    }
    if (auto ms = whole_number(head.field("x-faultline-response-delay"), max_delay); ms && *ms > 0) {
      v.response.delay = Millis(*ms);
      asked.push_back(fmt::format("response delay {} ms", *ms));
      v.fault_kind = "delay";
    }
    if (auto rate = whole_number(head.field("x-faultline-slow-body"), int64_t{1} << 40); rate && *rate > 0) {
      v.response.body_rate = static_cast<uint64_t>(*rate);
      asked.push_back(fmt::format("slow body {} B/s", *rate));
      v.fault_kind = "slow_body";
    }
    v.fault_status = "upstream";
    if (auto abort = head.field("x-faultline-abort")) {
      if (iequals(*abort, "reset") || iequals(*abort, "close")) {
        v.action = RequestVerdict::Action::Abort;
        v.reset = iequals(*abort, "reset");
        asked.push_back(v.reset ? "reset before request" : "close before request");
        v.fault_kind = "abort";
        v.fault_status = v.reset ? "reset" : "closed";
      } else if (auto status = whole_number(abort, 1000); status && *status >= 100 && *status <= 599) {
        v.action = RequestVerdict::Action::Answer;
        v.answer_status = static_cast<int>(*status);
        v.answer = error_answer({v.answer_status, {}, {}, 0, "x-faultline-abort"}, head);
        asked.push_back(std::to_string(*status));
        v.fault_kind = "error";
        v.fault_status = std::to_string(*status);
      }
    }
    for (size_t i = 0; i < asked.size(); ++i) v.fault += (i ? ", " : "") + asked[i];
    return v;
  }
};

}  // namespace

FAULTLINE_TOXIC_TYPE(HttpHeaderControlToxic) {
  using namespace ranges;
  ToxicType type = ToxicType::define("http_header_control", "HttpHeaderControlToxic",
                                     "Gives each HTTP request the fault its x-faultline-* fields ask for, and takes those fields out.");
  declare_request_match(type);
  type.attribute(kMaxDelay, duration_attribute("max_delay", 0, kYearMs, "ms", "the longest delay a request may ask for"));
  type.attributes[kMaxDelay.index].default_value = int64_t{60000};
  type.both_streams = type.per_request_toxicity = true;
  return type.stage<HttpHeaderControlStage>();
}

}  // namespace faultline
