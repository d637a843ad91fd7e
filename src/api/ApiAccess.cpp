#include "api/ApiAccess.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <vector>

#include "api/JsonViews.h"

namespace faultline::api {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  ::SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

bool starts_with_word(std::string_view text, std::string_view word) {
  if (text.size() <= word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != word[i]) return false;
  return text[word.size()] == ' ';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Standard base64, as Basic credentials use it; nothing when malformed.
std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::vector<unsigned char> out(in.size() / 4 * 3 + 1);
  const int n = ::EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t length = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && length > 0; --i) --length;
  return std::string(reinterpret_cast<const char*>(out.data()), length);
}

// Requests that only read (and so need the token only with -api-token-reads).
bool only_reads(const Request& r) { return r.method == "GET" || r.method == "HEAD" || r.method == "OPTIONS"; }

// Paths that stay open whatever the settings: they reveal nothing, and
// clients and probes call them before they know a token.
bool always_open(const Request& r) {
  const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
  return r.method == "GET" && (path == "/version" || path == "/faultline/health" || path == "/faultline/ready");
}

}  // namespace

ApiAccess::ApiAccess(const ApiAccessOptions& options) : token_set_(!options.token.empty()), reads_too_(options.reads_too) {
  if (token_set_) digest_ = sha256(options.token);
}

bool ApiAccess::matches(std::string_view candidate) const {
  const auto digest = sha256(candidate);
  return ::CRYPTO_memcmp(digest.data(), digest_.data(), digest_.size()) == 0;
}

bool ApiAccess::carries_token(std::string_view authorization) const {
  if (!token_set_) return true;
  authorization = trim(authorization);
  if (starts_with_word(authorization, "bearer")) return matches(trim(authorization.substr(7)));
  if (starts_with_word(authorization, "basic")) {
    const auto credentials = base64_decode(trim(authorization.substr(6)));
    if (!credentials) return false;
    const size_t colon = credentials->find(':');
    const std::string_view user = std::string_view(*credentials).substr(0, colon);
    const std::string_view password = colon == std::string::npos ? std::string_view() : std::string_view(*credentials).substr(colon + 1);
    // Both are compared, whichever holds the token, so timing tells nothing about which.
    const bool user_matches = matches(user);
    const bool password_matches = matches(password);
    return user_matches || password_matches;
  }
  return false;
}

bool ApiAccess::allows(const Request& request) const {
  if (!token_set_ || always_open(request)) return true;
  if (only_reads(request) && !reads_too_) return true;
  return carries_token(request.authorization);
}

Response unauthorized_response(const Request& request) {
  const std::string message = request.authorization.empty()
                                  ? "this API needs a token: send Authorization: Bearer <token> (the server's -api-token)"
                                  : "the API token sent is not the server's";
  return Response{401, "application/json", error_json(401, message) + "\n",
                  {{"WWW-Authenticate", "Bearer realm=\"faultline\""}, {"X-Content-Type-Options", "nosniff"}}};
}

std::string token_from_environment() {
  const char* token = std::getenv("FAULTLINE_API_TOKEN");
  return token ? std::string(token) : std::string();
}

}  // namespace faultline::api
