#include <gtest/gtest.h>

#include "net/SocketAddress.h"
#include "server/GoFlags.h"

namespace faultline {

TEST(SplitHostPort, AcceptsWhatGoAccepts) {
  std::string error;
  auto hp = net::split_host_port("127.0.0.1:80", error);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, "80");
  hp = net::split_host_port("[::1]:8474", error);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  hp = net::split_host_port(":9000", error);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "");
}

TEST(SplitHostPort, RejectsWithGoWording) {
  std::string error;
  EXPECT_FALSE(net::split_host_port("127.0.0.1", error));
  EXPECT_EQ(error, "address 127.0.0.1: missing port in address");
  EXPECT_FALSE(net::split_host_port("::1:80", error));
  EXPECT_EQ(error, "address ::1:80: too many colons in address");
  EXPECT_FALSE(net::split_host_port("[::1:80", error));
  EXPECT_EQ(error, "address [::1:80: missing ']' in address");
}

TEST(ParsePort, NumbersServicesAndErrors) {
  std::string error;
  EXPECT_EQ(net::parse_port("8474", error), 8474);
  EXPECT_EQ(net::parse_port("0", error), 0);
  EXPECT_FALSE(net::parse_port("99999", error));
  EXPECT_EQ(error, "address 99999: invalid port");
  EXPECT_FALSE(net::parse_port("nosuchservice", error));
  EXPECT_EQ(error, "address tcp/nosuchservice: unknown port");
}

TEST(SocketAddress, PrintedLikeGo) {
  EXPECT_EQ(net::SocketAddress::from_ip("127.0.0.1", 80)->to_string(), "127.0.0.1:80");
  EXPECT_EQ(net::SocketAddress::from_ip("::1", 8474)->to_string(), "[::1]:8474");
  EXPECT_FALSE(net::SocketAddress::from_ip("localhost", 1).has_value());
}

TEST(GoDuration, UnitsAndBareSeconds) {
  using namespace std::chrono;
  EXPECT_EQ(parse_go_duration("5s"), seconds(5));
  EXPECT_EQ(parse_go_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_go_duration("1m30s"), seconds(90));
  EXPECT_EQ(parse_go_duration("2"), seconds(2));
  EXPECT_FALSE(parse_go_duration("5 parsecs").has_value());
  EXPECT_FALSE(parse_go_duration("").has_value());
}

TEST(GoFlags, AllFourSpellings) {
  std::string host = "localhost", port = "8474";
  bool metrics = false;
  GoFlags flags("t");
  flags.add_string("host", &host, "");
  flags.add_string("port", &port, "");
  flags.add_bool("proxy-metrics", &metrics, "");
  const char* argv[] = {"t", "-host", "0.0.0.0", "--port=9000", "-proxy-metrics"};
  EXPECT_FALSE(flags.parse(5, const_cast<char**>(argv)).has_value());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, "9000");
  EXPECT_TRUE(metrics);
  const char* bad[] = {"t", "-nope"};
  GoFlags other("t");
  auto error = other.parse(2, const_cast<char**>(bad));
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(*error, "flag provided but not defined: -nope");
}

}  // namespace faultline
