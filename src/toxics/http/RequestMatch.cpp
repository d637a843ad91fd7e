#include "toxics/http/RequestMatch.h"

#include <re2/re2.h>
#include <strings.h>

namespace faultline::http {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> check_header_regexes(const AttributeValue& value) {
  for (const auto& [name, pattern] : std::get<StringMap>(value)) {
    if (name.empty()) return std::string("a header name is empty");
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) return "the regex \"" + pattern + "\" for header " + name + " does not compile: " + re.error();
  }
  return std::nullopt;
}
}  // namespace

void declare_request_match(ToxicType& type) {
  type.attribute(kMatchMethod, list_attribute("method", 32, "the request methods it is for (none: every method)"))
      .attribute(kMatchPath, string_attribute("path", 2048,
                                              "the path it is for: exact, or a glob with * (\"/api/*\"); with a ? the "
                                              "query counts too (none: every path)"))
      .attribute(kMatchHeaders, map_attribute("request_headers", 32,
                                              "headers the request must have, each value matching a regex (RE2)"));
  type.attributes[kMatchHeaders.index].validate = check_header_regexes;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // The classic two-pointer walk: on a mismatch, the last * takes one more
  // character. Linear in practice, never recursive.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

RequestMatch::RequestMatch(const std::vector<std::string>& methods, std::string path, const StringMap& headers)
    : methods_(methods), path_(std::move(path)) {
  for (const auto& [name, pattern] : headers) headers_.emplace_back(name, std::make_unique<RE2>(pattern, RE2::Quiet));
}
RequestMatch::~RequestMatch() = default;
RequestMatch::RequestMatch(RequestMatch&&) noexcept = default;
RequestMatch& RequestMatch::operator=(RequestMatch&&) noexcept = default;

bool RequestMatch::matches(const HttpHead& head) const {
  if (!methods_.empty()) {
    bool any = false;
    for (const auto& m : methods_) any = any || iequals(m, head.method);
    if (!any) return false;
  }
  if (!path_.empty()) {
    const std::string_view subject = path_.find('?') != std::string::npos ? std::string_view(head.target) : head.path();
    if (!glob_match(path_, subject)) return false;
  }
  for (const auto& [name, re] : headers_) {
    const auto value = head.field(name);
    if (!value || !re->ok() || !RE2::PartialMatch(*value, *re)) return false;
  }
  return true;
}

}  // namespace faultline::http
