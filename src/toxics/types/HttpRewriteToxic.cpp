// http_rewrite: the upstream answered, and the answer is wrong. A matching
// request's response gets another `status` (the body the upstream sent is
// kept), fields removed (`remove_headers`) and fields set (`set_headers`,
// replacing any of the same name). Statuses whose responses have no body
// (1xx, 204, 304) cannot be set: the upstream's body would then be read as
// the next response.
#include <fmt/format.h>

#include "toxics/http/HttpStage.h"
#include "toxics/http/RequestMatch.h"

namespace faultline {
namespace {

using namespace http;

constexpr IntegerKey kStatus{3, "status"};
constexpr MapKey kSetHeaders{4, "set_headers"};
constexpr ListKey kRemoveHeaders{5, "remove_headers"};

std::optional<std::string> check_status(const AttributeValue& value) {
  const int64_t status = std::get<int64_t>(value);
  if (status == 0 || (status >= 200 && status <= 599 && status != 204 && status != 304)) return std::nullopt;
  return fmt::format("status {} has no body, but the upstream's body would follow it: use 0 (keep the upstream's) or "
                     "200 to 599 but 204 and 304",
                     status);
}

class HttpRewriteStage final : public HttpStage {
 public:
  using HttpStage::HttpStage;

 private:
  RequestVerdict on_request(const HttpHead& head) override {
    if (!selected(head)) return {};
    RequestVerdict v;
    HeadRewrite& r = v.response.rewrite;
    r.status = static_cast<int>(attribute(kStatus));
    r.add = attribute(kSetHeaders);
    r.remove = attribute(kRemoveHeaders);
    if (r.empty()) return {};
    v.fault = r.status ? fmt::format("rewrite to {}", r.status) : std::string("rewrite headers");
    v.fault_kind = "rewrite";
    v.fault_status = r.status ? std::to_string(r.status) : "upstream";
    return v;
  }
};

}  // namespace

FAULTLINE_TOXIC_TYPE(HttpRewriteToxic) {
  ToxicType type = ToxicType::define("http_rewrite", "HttpRewriteToxic",
                                     "Changes the status and header fields of the responses to matching HTTP requests.");
  declare_request_match(type);
  type.attribute(kStatus, integer_attribute("status", 0, 599, "", "the status the client sees instead (0: the upstream's)"))
      .attribute(kSetHeaders, map_attribute("set_headers", 32, "fields set on the response, replacing any of the same name"))
      .attribute(kRemoveHeaders, list_attribute("remove_headers", 32, "fields taken out of the response"));
  type.attributes[kStatus.index].validate = check_status;
  type.both_streams = type.per_request_toxicity = true;
  return type.stage<HttpRewriteStage>();
}

}  // namespace faultline
