#pragma once
// The web UI at /ui: its page and assets, built into the binary, and
// /ui/api/..., the API as the page uses it.
//
// The API refuses browsers (a page on any site could otherwise drive it
// from a visitor's machine). The UI's calls go through /ui/api instead,
// where every call that changes something must carry the page's token in
// X-Faultline-UI — a random value the server writes into the page it
// serves, which no other site can read — and, when the browser says where
// the call comes from (Origin, Sec-Fetch-Site), come from this origin. The
// API token, when the server has one, is still required on top.
#include <optional>
#include <string>

#include "api/Api.h"

namespace faultline::api {

struct WebUiOptions {
  bool enabled = true;          // -no-ui turns it off (404)
  std::string token_required;   // "no", "changes" or "reads": what the page must ask the user for
};

class WebUi {
 public:
  WebUi(Api& api, WebUiOptions options);

  // The answer for /ui, /ui/... and /ui/api/...; nothing for any other path.
  std::optional<Response> handle(const Request& request);
  const std::string& page_token() const { return page_token_; }

 private:
  Response page() const;
  Response asset(std::string_view name) const;
  Response api_call(const Request& request);

  Api& api_;
  WebUiOptions options_;
  std::string page_token_;
};

}  // namespace faultline::api
