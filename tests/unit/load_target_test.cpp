// `faultline load` targets: URL parsing with one-line errors, and each
// protocol's requests and reply checks, fed by hand.
#include <gtest/gtest.h>

#include "load/Codec.h"
#include "load/LoadTarget.h"

namespace faultline::load {
namespace {

std::string error_of(const std::string& url, ProtocolOptions o = {}) {
  try {
    parse_target(url, o);
  } catch (const TargetError& e) {
    return e.what();
  }
  return "";
}

TEST(LoadTarget, ParsesEachScheme) {
  const auto tcp = parse_target("tcp://127.0.0.1:26007", {});
  EXPECT_EQ(tcp.scheme, Scheme::Tcp);
  EXPECT_EQ(tcp.endpoints.at(0).port, 26007);
  const auto http = parse_target("http://localhost:8080/a/b?c=1", {});
  EXPECT_EQ(http.path, "/a/b?c=1");
  EXPECT_EQ(parse_target("http://localhost:8080", {}).path, "/");
  const auto mc = parse_target("memcached://127.0.0.1:1,127.0.0.1:2,[::1]:3", {});
  ASSERT_EQ(mc.endpoints.size(), 3u);
  EXPECT_EQ(mc.endpoints[2].host, "::1");
  EXPECT_EQ(mc.options.mix.get, 80) << "memcached's default mix";
  EXPECT_EQ(parse_target("redis://localhost:6379/", {}).scheme, Scheme::Redis);
}

TEST(LoadTarget, BadTargetsGetOneLineErrorsThatSayWhatIsAllowed) {
  EXPECT_NE(error_of("ftp://x:1").find("unknown scheme \"ftp\""), std::string::npos);
  EXPECT_NE(error_of("ftp://x:1").find("allowed: tcp://"), std::string::npos);
  EXPECT_NE(error_of("127.0.0.1:80").find("no scheme"), std::string::npos);
  EXPECT_NE(error_of("tcp://host").find("missing port"), std::string::npos);
  EXPECT_NE(error_of("tcp://host:0").find("1 to 65535"), std::string::npos);
  EXPECT_NE(error_of("tcp://host:99999").find("invalid port \"99999\""), std::string::npos);
  EXPECT_NE(error_of("redis://a:1,b:2").find("only memcached://"), std::string::npos);
  EXPECT_NE(error_of("tcp://a:1/path").find("only http://"), std::string::npos);
  ProtocolOptions huge;
  huge.payload = 0;
  EXPECT_NE(error_of("tcp://a:1", huge).find("--payload"), std::string::npos);
  EXPECT_THROW(parse_mix("get=80,put=20"), TargetError);
  EXPECT_THROW(parse_mix("get=0"), TargetError);
  EXPECT_EQ(parse_mix("get=9,set=1").set, 1);
}

TEST(LoadCodecs, TcpEchoWantsTheSameBytesBack) {
  ProtocolOptions o;
  o.payload = 16;
  auto codec = make_codec(parse_target("tcp://a:1", o), 1);
  std::string req;
  codec->next_request(req);
  ASSERT_EQ(req.size(), 16u);
  EXPECT_EQ(codec->check_reply(req.substr(0, 5)).state, ReplyState::Incomplete);
  EXPECT_EQ(codec->check_reply(req).state, ReplyState::Complete);
  std::string wrong = req;
  wrong[10] ^= 1;
  EXPECT_EQ(codec->check_reply(wrong).state, ReplyState::Mismatch);
  std::string second;
  codec->next_request(second);
  EXPECT_NE(second, req) << "every request differs, so a stale echo is caught";
}

TEST(LoadCodecs, HttpChecksStatusFramingAndKeepAlive) {
  ProtocolOptions o;
  auto codec = make_codec(parse_target("http://h:80/x", o), 1);
  std::string req;
  codec->next_request(req);
  EXPECT_EQ(req.rfind("GET /x HTTP/1.1\r\nHost: h:80\r\n", 0), 0u) << req;
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(codec->check_reply(reply.substr(0, 20)).state, ReplyState::Incomplete);
  auto done = codec->check_reply(reply);
  EXPECT_EQ(done.state, ReplyState::Complete) << done.problem;
  EXPECT_EQ(done.consumed, reply.size());
  EXPECT_FALSE(done.close_after);
  codec->next_request(req);
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  done = codec->check_reply(chunked);
  EXPECT_EQ(done.state, ReplyState::Complete) << done.problem;
  EXPECT_TRUE(done.close_after);
  codec->next_request(req);
  auto bad = codec->check_reply("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(bad.state, ReplyState::Mismatch);
  EXPECT_EQ(bad.problem, "HTTP status 503");
  codec->next_request(req);
  EXPECT_EQ(codec->check_reply("SSH-2.0-OpenSSH\r\n").state, ReplyState::Mismatch);
}

TEST(LoadCodecs, RedisPingAndMix) {
  auto ping = make_codec(parse_target("redis://h:1", {}), 1);
  std::string req;
  ping->next_request(req);
  EXPECT_EQ(req, "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(ping->check_reply("+PON").state, ReplyState::Incomplete);
  EXPECT_EQ(ping->check_reply("+PONG\r\n").state, ReplyState::Complete);
  ping->next_request(req);
  EXPECT_EQ(ping->check_reply("-ERR nope\r\n").problem, "redis error: ERR nope");
  ProtocolOptions o;
  o.mix = parse_mix("get=1,set=1");
  auto mixed = make_codec(parse_target("redis://h:1", o), 3);
  int gets = 0, sets = 0;
  for (int i = 0; i < 200; ++i) {
    mixed->next_request(req);
    if (req.find("GET") != std::string::npos) {
      ++gets;
      EXPECT_EQ(mixed->check_reply("$-1\r\n").state, ReplyState::Complete);
      mixed->next_request(req);
      if (req.find("GET") != std::string::npos) {
        EXPECT_EQ(mixed->check_reply("$3\r\nab").state, ReplyState::Incomplete);
        EXPECT_EQ(mixed->check_reply("$3\r\nabc\r\n").state, ReplyState::Complete);
      } else {
        EXPECT_EQ(mixed->check_reply("+OK\r\n").state, ReplyState::Complete);
      }
    } else {
      ++sets;
      EXPECT_EQ(mixed->check_reply("+OK\r\n").state, ReplyState::Complete);
    }
  }
  EXPECT_GT(gets, 50);
  EXPECT_GT(sets, 50);
}

TEST(LoadCodecs, MemcachedSpreadsKeysOverItsServers) {
  auto codec = make_codec(parse_target("memcached://a:1,a:2,a:3", {}), 5);
  std::array<int, 3> per_server{};
  std::string req;
  for (int i = 0; i < 600; ++i) {
    const size_t server = codec->next_request(req);
    ASSERT_LT(server, 3u);
    ++per_server[server];
    if (req.rfind("ms ", 0) == 0) {
      EXPECT_EQ(codec->check_reply("HD\r\n").state, ReplyState::Complete);
    } else {
      ASSERT_EQ(req.rfind("mg ", 0), 0u) << req;
      EXPECT_EQ(codec->check_reply("EN\r\n").state, ReplyState::Complete);
    }
  }
  for (int n : per_server) EXPECT_GT(n, 120) << "keys are spread over every server";
  codec->next_request(req);
  if (req.rfind("mg ", 0) == 0) {
    EXPECT_EQ(codec->check_reply("VA 2 \r\nxy").state, ReplyState::Incomplete);
    EXPECT_EQ(codec->check_reply("VA 2\r\nxy\r\n").state, ReplyState::Complete);
  }
  codec->next_request(req);
  EXPECT_EQ(codec->check_reply("SERVER_ERROR out of memory\r\n").state, ReplyState::Mismatch);
}

}  // namespace
}  // namespace faultline::load
