#include "api/WebUi.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include "api/EmbeddedFiles.h"
#include "api/JsonViews.h"

namespace faultline::api {

namespace {

constexpr std::string_view kApiPrefix = "/ui/api";

std::string random_token() {
  unsigned char bytes[24];
  if (::RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the UI's token");
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// What every UI response carries: nothing runs but our own files, and no
// other site may frame the page.
void secure(Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

Response refused(int status, const std::string& message) {
  Response r{status, "application/json", error_json(status, message) + "\n", {}};
  secure(r);
  return r;
}

bool changes_something(const Request& r) { return r.method != "GET" && r.method != "HEAD" && r.method != "OPTIONS"; }

bool same_token(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

WebUi::WebUi(Api& api, WebUiOptions options) : api_(api), options_(std::move(options)), page_token_(random_token()) {}

std::optional<Response> WebUi::handle(const Request& request) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/ui" && !path.starts_with("/ui/")) return std::nullopt;
  if (!options_.enabled) return Response{404, "text/plain; charset=utf-8", "404 page not found\n", {}};
  if (path == kApiPrefix || path.starts_with(std::string(kApiPrefix) + "/")) return api_call(request);
  if (request.method != "GET" && request.method != "HEAD") return refused(405, "the UI's pages are read with GET");
  if (path == "/ui" || path == "/ui/" || path == "/ui/index.html") return page();
  return asset(path.substr(4));
}

Response WebUi::page() const {
  std::string html;
  for (const auto& f : ui::files())
    if (f.name == "index.html") html = std::string(f.bytes());
  for (const auto& [placeholder, value] :
       {std::pair<std::string_view, std::string>{"__FAULTLINE_UI_TOKEN__", page_token_}, {"__FAULTLINE_TOKEN_REQUIRED__", options_.token_required}})
    if (const size_t at = html.find(placeholder); at != std::string::npos) html.replace(at, placeholder.size(), value);
  Response r{200, "text/html; charset=utf-8", std::move(html), {{"Cache-Control", "no-store"}}};
  secure(r);
  return r;
}

Response WebUi::asset(std::string_view name) const {
  for (const auto& f : ui::files()) {
    if (f.name != name || name == "index.html") continue;
    Response r{200, std::string(content_type(name)), std::string(f.bytes()), {{"Cache-Control", "no-cache"}}};
    secure(r);
    return r;
  }
  return refused(404, "no such file in the UI: " + std::string(name));
}

Response WebUi::api_call(const Request& request) {
  if (changes_something(request)) {
    // A page of another site can send a form or a fetch here, but it cannot
    // read our page, so it cannot know the token; and a browser says where
    // a call comes from.
    if (!same_token(request.ui_token, page_token_))
      return refused(403, "calls that change something need the page's token (X-Faultline-UI): use the page at /ui");
    if (request.fetch_site == "cross-site" || request.fetch_site == "same-site")
      return refused(403, "calls from other sites are refused (Sec-Fetch-Site: " + request.fetch_site + ")");
    if (!request.origin.empty() && request.origin != "http://" + request.host && request.origin != "https://" + request.host)
      return refused(403, "calls from other origins are refused (Origin: " + request.origin + ")");
  }
  Request inner = request;
  inner.target = request.target.substr(kApiPrefix.size());
  if (inner.target.empty() || inner.target[0] != '/') inner.target.insert(0, "/");
  inner.from_ui = true;
  Response r = api_.handle(inner);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace faultline::api
