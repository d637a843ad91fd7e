#include "toxics/http/HttpAnswer.h"

#include <fmt/format.h>
#include <strings.h>

#include "toxics/http/HeadEdit.h"

namespace faultline::http {

namespace {
bool has_header(const StringMap& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return true;
  return false;
}
}  // namespace

std::string error_answer(const ErrorAnswer& a, const HttpHead& request) {
  const std::string_view reason = reason_phrase(a.status);
  const std::string body = a.body.empty() ? fmt::format("{} {} (faultline {})\n", a.status, reason, a.toxic) : std::string(a.body);
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", a.status, reason);
  for (const auto& [k, v] : a.headers) out += k + ": " + v + "\r\n";
  if (!has_header(a.headers, "content-type")) out += "Content-Type: text/plain; charset=utf-8\r\n";
  if (a.retry_after > 0) out += fmt::format("Retry-After: {}\r\n", a.retry_after);
  out += fmt::format("Content-Length: {}\r\n", body.size());
  if (!request.keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (request.method != "HEAD") out += body;
  return out;
}

}  // namespace faultline::http
