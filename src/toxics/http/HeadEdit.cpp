#include "toxics/http/HeadEdit.h"

#include <boost/beast/http/status.hpp>
#include <fmt/format.h>
#include <strings.h>

namespace faultline::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The head's lines, each with its line ending; the last one is the empty
// line that ends the head.
std::vector<std::string_view> lines_of(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at < head.size()) {
    size_t eol = head.find('\n', at);
    eol = eol == std::string_view::npos ? head.size() : eol + 1;
    lines.push_back(head.substr(at, eol - at));
    at = eol;
  }
  return lines;
}

bool blank(std::string_view line) { return line == "\r\n" || line == "\n"; }
bool continuation(std::string_view line) { return !line.empty() && (line[0] == ' ' || line[0] == '\t'); }
std::string_view field_name(std::string_view line) { return line.substr(0, line.find(':')); }

}  // namespace

std::string remove_fields(std::string_view head, const std::function<bool(std::string_view)>& drop) {
  std::string out;
  out.reserve(head.size());
  bool start_line_seen = false, dropping = false;
  for (std::string_view line : lines_of(head)) {
    // Empty lines before the start line are allowed (and kept); the first
    // empty line after it ends the head.
    if (!start_line_seen || blank(line)) {
      start_line_seen = start_line_seen || !blank(line);
      out += line;
      dropping = false;
      continue;
    }
    if (continuation(line)) {
      if (!dropping) out += line;
      continue;
    }
    dropping = drop(field_name(line));
    if (!dropping) out += line;
  }
  return out;
}

std::string_view reason_phrase(int status) {
  const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  return reason.empty() ? std::string_view("Unknown") : std::string_view(reason.data(), reason.size());
}

std::string rewrite_response_head(std::string_view head, const HeadRewrite& rewrite) {
  std::string out = remove_fields(head, [&](std::string_view name) {
    for (const auto& r : rewrite.remove)
      if (iequals(r, name)) return true;
    for (const auto& [k, v] : rewrite.add)
      if (iequals(k, name)) return true;
    return false;
  });
  if (rewrite.status != 0) {
    // "HTTP/1.1 200 OK\r\n" -> "HTTP/1.1 503 Service Unavailable\r\n"
    const size_t line_start = out.find_first_not_of("\r\n");
    const size_t version_end = out.find(' ', line_start);
    const size_t line_end = out.find("\r\n", line_start);
    if (line_start != std::string::npos && version_end != std::string::npos && line_end != std::string::npos &&
        version_end < line_end)
      out.replace(version_end, line_end - version_end, fmt::format(" {} {}", rewrite.status, reason_phrase(rewrite.status)));
  }
  std::string added;
  for (const auto& [k, v] : rewrite.add) added += k + ": " + v + "\r\n";
  // The added fields go just before the empty line that ends the head.
  const size_t blank_line = out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0 ? out.size() - 2
                            : out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0   ? out.size() - 1
                                                                                                : out.size();
  out.insert(blank_line, added);
  return out;
}

}  // namespace faultline::http
