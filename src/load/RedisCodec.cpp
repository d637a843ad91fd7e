// redis://: RESP. PING expects +PONG; with --mix, GET expects a bulk string
// or nil and SET expects +OK. An error reply (-ERR ...) is a mismatch.
#include <charconv>
#include <optional>

#include "load/Codec.h"
#include "load/KeyValueWorkload.h"

namespace faultline::load {
namespace {

enum class Op { Ping, Get, Set };

std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }

class RedisCodec final : public Codec {
 public:
  RedisCodec(const TargetSpec& t, uint64_t seed) : ping_only_(t.options.mix.get + t.options.mix.set == 0), work_(t.options, seed) {}

  size_t next_request(std::string& out) override {
    if (ping_only_) {
      op_ = Op::Ping;
      out = "*1\r\n$4\r\nPING\r\n";
    } else if (work_.next_is_set()) {
      op_ = Op::Set;
      out = "*3\r\n$3\r\nSET\r\n" + bulk(work_.next_key()) + bulk(work_.value());
    } else {
      op_ = Op::Get;
      out = "*2\r\n$3\r\nGET\r\n" + bulk(work_.next_key());
    }
    return 0;
  }

  void expect(std::string_view request) override {
    if (request.rfind("*1\r\n", 0) == 0) op_ = Op::Ping;
    else if (request.find("\r\nSET\r\n") != std::string_view::npos) op_ = Op::Set;
    else op_ = Op::Get;
  }

  ReplyCheck check_reply(std::string_view in) override {
    ReplyCheck r;
    const auto found = reply_line(in, r);
    if (!found) return r;
    const std::string_view line = *found;
    const size_t eol = line.size();
    if (line.empty()) return reply_mismatch("an empty reply line");
    if (line[0] == '-') return reply_mismatch("redis error: " + std::string(line.substr(1, 200)));
    switch (op_) {
      case Op::Ping:
        if (line != "+PONG") return reply_mismatch("PING answered \"" + std::string(line.substr(0, 80)) + "\"");
        return reply_complete(eol + 2);
      case Op::Set:
        if (line != "+OK") return reply_mismatch("SET answered \"" + std::string(line.substr(0, 80)) + "\"");
        return reply_complete(eol + 2);
      case Op::Get: {
        if (line[0] != '$') return reply_mismatch("GET answered \"" + std::string(line.substr(0, 80)) + "\"");
        long long length = 0;
        auto [end, ec] = std::from_chars(line.data() + 1, line.data() + line.size(), length);
        if (ec != std::errc() || end != line.data() + line.size() || length < -1) return reply_mismatch("a bad bulk length");
        if (length == -1) return reply_complete(eol + 2);  // nil: the key is not set
        const size_t total = eol + 2 + static_cast<size_t>(length) + 2;
        if (in.size() < total) return r;
        if (in.substr(total - 2, 2) != "\r\n") return reply_mismatch("a bulk string without its CRLF");
        return reply_complete(total);
      }
    }
    return r;
  }

 private:
  bool ping_only_;
  KeyValueWorkload work_;
  Op op_ = Op::Ping;
};

}  // namespace

std::unique_ptr<Codec> make_redis_codec(const TargetSpec& target, uint64_t seed) {
  return std::make_unique<RedisCodec>(target, seed);
}

}  // namespace faultline::load
