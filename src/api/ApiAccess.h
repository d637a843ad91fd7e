#pragma once
// Who may use the admin API. With a token set (-api-token or
// FAULTLINE_API_TOKEN), every request that changes something must carry it,
// and with -api-token-reads every other request too, except the ones that
// reveal nothing and that probes and clients call before they know any
// token (/version, /faultline/health, /faultline/ready).
//
// The token is accepted as "Authorization: Bearer TOKEN" (faultline's CLI,
// curl -H, most HTTP clients) or as HTTP Basic credentials whose user name
// or password is the token, which is what a client sends by itself for a
// URL like http://TOKEN@host:8474 (the Toxiproxy clients for Go and Node
// do). It is compared in constant time.
#include <array>
#include <string>
#include <string_view>

#include "api/HttpTypes.h"

namespace faultline::api {

struct ApiAccessOptions {
  std::string token;        // empty: no token, anyone who reaches the API may use it
  bool reads_too = false;   // -api-token-reads
};

class ApiAccess {
 public:
  explicit ApiAccess(const ApiAccessOptions& options);

  bool token_set() const { return token_set_; }
  // Whether `request` may go on; false means 401.
  bool allows(const Request& request) const;
  // Whether an Authorization header's value carries the token.
  bool carries_token(std::string_view authorization) const;

 private:
  bool matches(std::string_view candidate) const;
  bool token_set_ = false;
  bool reads_too_ = false;
  std::array<unsigned char, 32> digest_{};  // SHA-256 of the token: compared digest to digest, in constant time
};

// The 401 answer: JSON naming what is missing, and a WWW-Authenticate header.
Response unauthorized_response(const Request& request);

// The token from the environment (FAULTLINE_API_TOKEN), or "".
std::string token_from_environment();

}  // namespace faultline::api
