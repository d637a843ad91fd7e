#pragma once
// Changes to a message's head made on its original bytes, so everything the
// toxic does not change (the order of the fields, their case, the version)
// reaches the other side exactly as it was sent.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/Attribute.h"

namespace faultline::http {

// The head without the fields whose name `drop` picks (with any
// continuation lines of theirs).
std::string remove_fields(std::string_view head, const std::function<bool(std::string_view name)>& drop);

// What http_rewrite does to a response's head.
struct HeadRewrite {
  int status = 0;                     // 0: the upstream's
  std::vector<std::string> remove;    // field names, any case
  StringMap add;                      // added after the upstream's fields
  bool empty() const { return status == 0 && remove.empty() && add.empty(); }
};

// A response head with `rewrite` applied: a new status keeps the version and
// takes the standard reason phrase; removed fields go before added ones, so
// a field named in both is replaced.
std::string rewrite_response_head(std::string_view head, const HeadRewrite& rewrite);

// The reason phrase HTTP/1.1 gives `status` ("Service Unavailable"), or "Unknown".
std::string_view reason_phrase(int status);

}  // namespace faultline::http
