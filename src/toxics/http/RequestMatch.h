#pragma once
// Which requests an HTTP toxic is for. Every HTTP toxic type declares the
// same three attributes first — `method`, `path`, `request_headers` — and
// reads them through this class; an empty one matches every request.
//
// - method: a list, compared without regard to case ("GET", "post").
// - path: "/api/users" (exactly that path), or a glob where * stands for any
//   run of characters ("/api/*", "*.json"). A pattern with a "?" is matched
//   against the whole target, query included ("/?query=*"); one without, against
//   the path alone, so "/search" also matches "/search?q=1".
// - request_headers: {"name": "regex"}: the request has the header and its
//   value contains a match of the regex (RE2: linear time, no backtracking).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/ToxicType.h"
#include "toxics/http/HttpFraming.h"

namespace re2 {
class RE2;
}

namespace faultline::http {

inline constexpr ListKey kMatchMethod{0, "method"};
inline constexpr StringKey kMatchPath{1, "path"};
inline constexpr MapKey kMatchHeaders{2, "request_headers"};

// Declares the three match attributes at the start of an HTTP toxic type.
void declare_request_match(ToxicType& type);

// Whether `text` matches `pattern`, where * is any run of characters.
bool glob_match(std::string_view pattern, std::string_view text);

class RequestMatch {
 public:
  RequestMatch(const std::vector<std::string>& methods, std::string path, const StringMap& headers);
  ~RequestMatch();
  RequestMatch(RequestMatch&&) noexcept;
  RequestMatch& operator=(RequestMatch&&) noexcept;

  bool matches(const HttpHead& head) const;

 private:
  std::vector<std::string> methods_;
  std::string path_;
  std::vector<std::pair<std::string, std::unique_ptr<re2::RE2>>> headers_;
};

}  // namespace faultline::http
