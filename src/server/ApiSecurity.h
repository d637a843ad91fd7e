#pragma once
// The admin API's security settings as the server's flags give them: a
// token, TLS files, and what the server warns about at start-up (an API
// anyone on the network can use).
#include <optional>
#include <string>
#include <vector>

namespace faultline {

struct ApiSecuritySettings {
  std::string token;  // -api-token, else $FAULTLINE_API_TOKEN
  bool token_reads = false;
  std::string tls_cert, tls_key, tls_client_ca;
  bool tls() const { return !tls_cert.empty(); }
};

// What is wrong with the flags, naming the flag, the value and what is
// allowed; nothing when they are fine. Fills the token from the environment.
std::optional<std::string> check_api_security(ApiSecuritySettings& settings);

// Whether the API host is a loopback one (only this machine can reach it).
bool is_loopback_host(const std::string& host);

// The warnings the server logs at start-up and /faultline/stats carries.
std::vector<std::string> api_exposure_warnings(const std::string& host, const std::string& port, const ApiSecuritySettings& settings);

}  // namespace faultline
