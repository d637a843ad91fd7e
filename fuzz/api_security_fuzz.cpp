// What a stranger controls of the API's security: the Authorization header
// (Bearer, Basic with any base64), a token in the path (/token/...), the
// method and the target, against an API that wants a token; the API URL a
// client is given (a token in its user name); the token and TLS flags; and
// a state file's bytes. Nothing may crash, and a change without any
// credential must be refused with 401.
#include <cstddef>
#include <cstdint>
#include <string>

#include "FuzzServer.h"
#include "api/ApiAccess.h"
#include "cli/ApiClient.h"
#include "config/ConfigFile.h"
#include "server/ApiSecurity.h"
#include "state/StateFile.h"

using namespace faultline;

namespace {
fuzz::FuzzServer& server() {
  static fuzz::FuzzServer s;
  return s;
}

// The next line of the input (up to '\n'), consumed.
std::string next_line(std::string& rest) {
  const size_t eol = rest.find('\n');
  std::string line = rest.substr(0, eol);
  rest = eol == std::string::npos ? std::string() : rest.substr(eol + 1);
  return line;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  static const char* const kMethods[] = {"GET", "POST", "DELETE", "PATCH"};

  // 1. A request to an API that wants a token.
  api::ApiAccess access({"fuzz-token", (flags & 4) != 0});
  api::ApiOptions options;
  options.version = "fuzz";
  options.access = &access;
  api::Api api(server().registry(), options);
  api::Request request;
  request.method = kMethods[flags & 3];
  request.authorization = next_line(rest);
  request.target = next_line(rest);
  request.body = rest;
  const api::Response response = api.handle(request);
  const bool no_credentials = request.authorization.empty() && request.target.rfind("/token/", 0) != 0;
  if (no_credentials && request.method != "GET" && response.status != 401) __builtin_trap();
  server().forget_everything();

  // 2. The same bytes as a client's API URL (http only: https would load the system's CAs each time).
  const std::string url = request.authorization + request.target;
  if (url.rfind("https://", 0) != 0) {
    try {
      cli::ApiClient client(url);
      (void)client.base_url();
    } catch (const std::invalid_argument&) {
    }
  }

  // 3. As the server's flags.
  ApiSecuritySettings settings;
  settings.token = request.authorization;
  settings.token_reads = flags & 8;
  settings.tls_cert = (flags & 16) ? request.target : "";
  settings.tls_key = (flags & 32) ? request.target : "";
  (void)check_api_security(settings);
  (void)api_exposure_warnings(request.target, "8474", settings);

  // 4. As a state file.
  try {
    (void)StateFile::parse(rest, "fuzz-state.json");
  } catch (const ConfigError&) {
  }
  return 0;
}
