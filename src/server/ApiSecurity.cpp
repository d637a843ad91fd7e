#include "server/ApiSecurity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "api/ApiAccess.h"

namespace faultline {

namespace {
// A token travels in a header (and maybe a URL path), so it must be visible ASCII.
bool header_safe(const std::string& token) {
  return std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '/'; });
}

std::optional<std::string> readable_file(const std::string& flag, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return fmt::format("invalid value \"{}\" for flag -{}: no such file (a PEM file is expected)", path, flag);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> check_api_security(ApiSecuritySettings& s) {
  if (s.token.empty()) s.token = api::token_from_environment();
  if (!s.token.empty() && (s.token.size() > 4096 || !header_safe(s.token)))
    return std::string("invalid value for flag -api-token (or FAULTLINE_API_TOKEN): use 1 to 4096 visible ASCII characters, no '/'");
  if (s.token_reads && s.token.empty()) return std::string("flag -api-token-reads needs a token: set -api-token or FAULTLINE_API_TOKEN");
  if (s.tls_cert.empty() != s.tls_key.empty()) return std::string("flags -api-tls-cert and -api-tls-key go together: give both");
  if (!s.tls_client_ca.empty() && s.tls_cert.empty())
    return std::string("flag -api-tls-client-ca needs -api-tls-cert and -api-tls-key");
  for (const auto& [flag, path] : {std::pair{"api-tls-cert", s.tls_cert}, {"api-tls-key", s.tls_key}, {"api-tls-client-ca", s.tls_client_ca}})
    if (!path.empty())
      if (auto problem = readable_file(flag, path)) return problem;
  return std::nullopt;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::vector<std::string> api_exposure_warnings(const std::string& host, const std::string& port, const ApiSecuritySettings& s) {
  std::vector<std::string> out;
  if (!is_loopback_host(host) && s.token.empty())
    out.push_back(fmt::format("the API listens on {}:{} without a token: anyone who can reach it can change every proxy "
                              "(set -api-token or FAULTLINE_API_TOKEN)",
                              host, port));
  return out;
}

}  // namespace faultline
