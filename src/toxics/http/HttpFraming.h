#pragma once
// Where HTTP/1.1 messages begin and end in one direction's bytes: requests
// (client to upstream) or responses (upstream to client). It reports, by
// offset in the stream, where each message's head ends (with the head
// itself) and where the message ends, so a stage can forward the original
// bytes untouched, hold a head while it decides, or drop a message whole.
// Bodies are never kept: only a head (up to 64 KB) or a chunk-size line the
// parser needs in one piece is copied. The parser is Boost.Beast's, kept out
// of this header.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/Attribute.h"

namespace faultline::http {

struct HttpHead {
  std::string method;  // requests
  std::string target;  // requests: "/path?query"
  int status = 0;      // responses
  StringMap fields;    // as they came, in order
  bool keep_alive = true;
  bool upgrade = false;  // asks to switch protocols (requests), or switched (101)

  // The first field called `name` (case-insensitive), or nothing.
  std::optional<std::string_view> field(std::string_view name) const;
  // The target without its query: "/search" of "/search?q=1".
  std::string_view path() const;
};

struct FramingEvent {
  enum class Kind { HeadEnd, MessageEnd };
  Kind kind;
  uint64_t offset;  // stream offset just past the head, or past the message
  HttpHead head;    // HeadEnd only
};

class HttpFraming {
 public:
  enum class Side { Requests, Responses };
  static constexpr size_t kHeadLimit = 64 * 1024;

  explicit HttpFraming(Side side);
  ~HttpFraming();
  HttpFraming(const HttpFraming&) = delete;
  HttpFraming& operator=(const HttpFraming&) = delete;

  // Reads the stream's next bytes; appends what they complete to `events`.
  // False once the bytes are not HTTP/1.1 (the reason is in error()); from
  // then on every call returns false and reports nothing.
  bool feed(std::string_view bytes, std::vector<FramingEvent>& events);
  // Responses: a request was forwarded; `to_head_request` when it was a
  // HEAD, whose response has a head and no body. In request order.
  void expect_response(bool to_head_request);
  const std::string& error() const { return error_; }
  uint64_t offset() const { return fed_; }

  class Parser;  // Beast's, in the .cpp

 private:
  void start_message();
  void message_done(uint64_t at, std::vector<FramingEvent>& events);
  Side side_;
  std::unique_ptr<Parser> parser_;
  std::string pending_;     // bytes the parser needs in one piece (a head, a chunk line)
  uint64_t pending_at_ = 0; // stream offset of pending_'s first byte
  uint64_t fed_ = 0;        // bytes fed so far
  bool head_reported_ = false;
  bool fresh_ = true;  // the current parser has not read a byte
  std::deque<bool> no_body_;  // responses: per request still unanswered, whether it was a HEAD
  std::string error_;
};

}  // namespace faultline::http
