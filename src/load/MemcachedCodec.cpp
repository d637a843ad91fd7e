// memcached://h1:p,h2:p,...: the meta protocol. A get is "mg KEY v" (a hit
// is "VA <size>" and the value, a miss "EN"), a set is "ms KEY <size>" and
// the value ("HD"). Each key goes to one server, chosen as common clients
// do (CRC-32 of the key modulo the number of servers), so a fault on one
// proxy hits the keys that live behind it.
#include <array>
#include <charconv>

#include "load/Codec.h"
#include "load/KeyValueWorkload.h"

namespace faultline::load {
namespace {

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

class MemcachedCodec final : public Codec {
 public:
  MemcachedCodec(const TargetSpec& t, uint64_t seed) : servers_(t.endpoints.size()), work_(t.options, seed) {}

  size_t next_request(std::string& out) override {
    const std::string key = work_.next_key();
    is_set_ = work_.next_is_set();
    if (is_set_) out = "ms " + key + " " + std::to_string(work_.value().size()) + "\r\n" + work_.value() + "\r\n";
    else out = "mg " + key + " v\r\n";
    return crc32(key) % servers_;
  }

  void expect(std::string_view request) override { is_set_ = request.rfind("ms ", 0) == 0; }

  ReplyCheck check_reply(std::string_view in) override {
    ReplyCheck r;
    const auto found = reply_line(in, r);
    if (!found) return r;
    const std::string_view line = *found;
    const size_t eol = line.size();
    if (is_set_) {
      if (line != "HD") return reply_mismatch("ms answered \"" + std::string(line.substr(0, 80)) + "\"");
      return reply_complete(eol + 2);
    }
    if (line == "EN") return reply_complete(eol + 2);  // a miss
    if (line.substr(0, 3) != "VA ") return reply_mismatch("mg answered \"" + std::string(line.substr(0, 80)) + "\"");
    const std::string_view size_text = line.substr(3, line.find(' ', 3) - 3);
    size_t size = 0;
    auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (ec != std::errc() || end != size_text.data() + size_text.size()) return reply_mismatch("a bad VA size");
    const size_t total = eol + 2 + size + 2;
    if (in.size() < total) return r;
    if (in.substr(total - 2, 2) != "\r\n") return reply_mismatch("a value without its CRLF");
    return reply_complete(total);
  }

 private:
  size_t servers_;
  KeyValueWorkload work_;
  bool is_set_ = false;
};

}  // namespace

std::unique_ptr<Codec> make_memcached_codec(const TargetSpec& target, uint64_t seed) {
  return std::make_unique<MemcachedCodec>(target, seed);
}

}  // namespace faultline::load
