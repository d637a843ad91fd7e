#pragma once
// What a target's protocol looks like to the load generator: the next
// request to send (and to which of the target's servers), and whether the
// bytes received so far are its complete, correct reply. One codec per
// simulated client, which has one request outstanding at a time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/Random.h"

namespace faultline::load {

struct TargetSpec;

enum class ReplyState : uint8_t {
  Incomplete,  // need more bytes
  Complete,    // `consumed` bytes were the reply, and it is the right one
  Mismatch,    // the reply is wrong (`problem` says how); the connection is closed
};

struct ReplyCheck {
  ReplyState state = ReplyState::Incomplete;
  size_t consumed = 0;
  bool close_after = false;  // the server said it will close (HTTP "Connection: close")
  std::string problem;
};

inline ReplyCheck reply_mismatch(std::string problem) {
  ReplyCheck r;
  r.state = ReplyState::Mismatch;
  r.problem = std::move(problem);
  return r;
}
inline ReplyCheck reply_complete(size_t consumed) {
  ReplyCheck r;
  r.state = ReplyState::Complete;
  r.consumed = consumed;
  return r;
}

// The first line of a CRLF text protocol's reply (redis, memcached): the
// line, or nothing while it is incomplete; `check` becomes a mismatch when
// the line outgrows any sane reply.
inline std::optional<std::string_view> reply_line(std::string_view in, ReplyCheck& check) {
  const size_t eol = in.find("\r\n");
  if (eol != std::string_view::npos) return in.substr(0, eol);
  if (in.size() > 64 * 1024) check = reply_mismatch("a reply line longer than 64 KiB");
  return std::nullopt;
}

class Codec {
 public:
  virtual ~Codec() = default;
  // Writes the next request into `out` (replacing it); returns the index of
  // the server it must go to (0 for single-server targets).
  virtual size_t next_request(std::string& out) = 0;
  // Makes `request` (written by another codec of the same target) the one
  // whose reply comes next: the open loop draws requests as they fall due,
  // then hands each to a free client of the server its key lives on.
  virtual void expect(std::string_view request) = 0;
  // Checks the bytes received for the request last written or expected.
  virtual ReplyCheck check_reply(std::string_view received) = 0;
};

// One codec per client; `seed` makes its choices (keys, payloads) reproducible.
std::unique_ptr<Codec> make_codec(const TargetSpec& target, uint64_t seed);

std::unique_ptr<Codec> make_tcp_echo_codec(const TargetSpec& target, uint64_t seed);
std::unique_ptr<Codec> make_http_codec(const TargetSpec& target, uint64_t seed);
std::unique_ptr<Codec> make_redis_codec(const TargetSpec& target, uint64_t seed);
std::unique_ptr<Codec> make_memcached_codec(const TargetSpec& target, uint64_t seed);

}  // namespace faultline::load
