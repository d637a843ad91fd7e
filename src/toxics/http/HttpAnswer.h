#pragma once
// The answers HTTP toxics give in the upstream's place: well-formed
// HTTP/1.1 responses with a Content-Length, so a keep-alive client reads
// them and goes on with the connection.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/Attribute.h"
#include "toxics/http/HttpFraming.h"

namespace faultline::http {

struct ErrorAnswer {
  int status = 503;
  std::string_view body;     // empty: a line naming the status and the toxic
  StringMap headers;         // added; a Content-Type here replaces text/plain
  int64_t retry_after = 0;   // seconds; 0: no Retry-After
  std::string_view toxic;    // named in the default body
};

// The response to `request`: no body for HEAD, Connection: close when the
// request asked for it.
std::string error_answer(const ErrorAnswer& answer, const HttpHead& request);

}  // namespace faultline::http
