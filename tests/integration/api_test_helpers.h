#pragma once
// Small helpers shared by the API integration tests (api_*_test.cpp): JSON
// parsing with key order kept, the error-body checks every endpoint needs,
// polling with a deadline, and a raw keep-alive connection to the API.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "HttpClient.h"
#include "ServerProcess.h"
#include "Sockets.h"

namespace faultline::test::api {

using Json = nlohmann::ordered_json;

inline Json parse_json(const std::string& body) { return Json::parse(body); }

// The keys of a JSON object, in the order the server wrote them.
inline std::vector<std::string> keys_of(const Json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
  return keys;
}

// "127.0.0.1:41234" -> 41234.
inline int port_of(const std::string& listen) { return std::stoi(listen.substr(listen.rfind(':') + 1)); }

// The JSON text of a string, for building request bodies.
inline std::string quoted(const std::string& s) { return Json(s).dump(); }

// An X-Toxiproxy-Request-Id value: 20 characters of lower-case base32hex.
inline bool is_request_id(const std::string& id) { return std::regex_match(id, std::regex("[0-9a-v]{20}")); }

// A handler error as every endpoint but /populate writes it: JSON labelled
// text/plain, with a trailing newline, and the nosniff header.
inline void expect_error(const HttpResponse& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.body, "{\"error\":" + quoted(message) + ",\"status\":" + std::to_string(status) + "}\n");
}

// Like expect_error, for messages of which only the start is stable.
inline void expect_error_prefix(const HttpResponse& r, int status, const std::string& prefix) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  ASSERT_FALSE(r.body.empty());
  EXPECT_EQ(r.body.back(), '\n');
  const Json j = parse_json(r.body);
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"error", "status"}));
  EXPECT_EQ(j["status"], status);
  EXPECT_EQ(j["error"].get<std::string>().rfind(prefix, 0), 0u) << j["error"];
}

// A success with a JSON body: compact, application/json, no trailing newline.
inline Json expect_json(const HttpResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_FALSE(!r.body.empty() && r.body.back() == '\n');
  return parse_json(r.body);
}

// 204: no body, neither Content-Type nor Content-Length.
inline void expect_no_content(const HttpResponse& r) {
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(r.has_header("content-type"));
  EXPECT_FALSE(r.has_header("content-length"));
}

// Polls `condition` until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// A connection through a proxy to an echo upstream that we can test for life.
inline bool echoes(const Socket& client, const std::string& text = "ping") {
  client.send(text);
  return recv_exact(client.fd(), text.size(), std::chrono::milliseconds(3000)).data == text;
}

// Occupies 127.0.0.1:port (or a fresh port for 0) with a listening socket of
// our own, so that the server's bind there fails. SO_REUSEADDR, like the
// server's own sockets, so that connections in TIME_WAIT do not count.
class PortHolder {
 public:
  explicit PortHolder(int port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~PortHolder() {
    if (fd_ >= 0) ::close(fd_);
  }
  PortHolder(const PortHolder&) = delete;
  PortHolder& operator=(const PortHolder&) = delete;
  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The text of Go's bind error for 127.0.0.1:port.
inline std::string address_in_use(int port) {
  return "listen tcp 127.0.0.1:" + std::to_string(port) + ": bind: address already in use";
}

// One raw HTTP/1.1 connection to the API, for keep-alive, Expect and chunked tests.
class RawConnection {
 public:
  explicit RawConnection(int port) : socket_(connect_tcp(port)) {}
  bool valid() const { return socket_.valid(); }
  void send(const std::string& bytes) const { socket_.send(bytes); }

  // Reads until `buffered_` holds one complete response (by Content-Length,
  // or the head alone for 1xx/204), then returns it.
  HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const size_t head_end = buffered_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        HttpResponse head = parse_response(buffered_.substr(0, head_end + 4));
        size_t need = head_end + 4;
        if (head.has_header("content-length")) need += std::stoul(head.header("content-length"));
        if (buffered_.size() >= need) {
          HttpResponse r = parse_response(buffered_.substr(0, need));
          buffered_.erase(0, need);
          return r;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("no complete response; got: " + buffered_.substr(0, 200));
      pollfd p{socket_.fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) continue;
      char buf[4096];
      const ssize_t n = ::recv(socket_.fd(), buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("connection ended; got: " + buffered_.substr(0, 200));
      buffered_.append(buf, static_cast<size_t>(n));
    }
  }

  // True when the server closes the connection within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    const ReadEnd end = wait_for_end(socket_.fd(), timeout);
    return end == ReadEnd::Eof || end == ReadEnd::Reset;
  }

 private:
  Socket socket_;
  std::string buffered_;
};

}  // namespace faultline::test::api
