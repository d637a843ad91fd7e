#pragma once
// HTTP/1.1 on both ends of a proxy, for the HTTP toxics' tests: an upstream
// that says in every answer which request it answers, and a client-side
// reader of responses. Written by hand on purpose: the tests must see the
// bytes exactly as they cross the wire.
#include <atomic>
#include <chrono>
#include <string>

#include "Upstreams.h"

namespace faultline::test {

// An HTTP/1.1 upstream. Each request is answered, in order, with a body
// naming it ("GET /a #3": the third request on this connection), except:
//   /chunked         a chunked body, "hello" then the name
//   /upgrade         101, then it echoes raw bytes
//   /bytes/N         N bytes of byte_pattern(), sent in 64 KB pieces
//   /echo-head       the request's head, as it arrived, is the body
// It reads Content-Length bodies. `requests`, when given, counts every
// request it has read, on every connection.
TestUpstream::Handler http_upstream(std::atomic<int>* requests = nullptr);

// The byte at offset i of a /bytes/N body.
inline char byte_pattern(uint64_t i) { return static_cast<char>('a' + (i * 7) % 26); }

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
  bool complete = false;  // the whole body arrived
};

// What arrives within `timeout` (one read), or nothing.
std::string recv_some(int fd, std::chrono::milliseconds timeout);
// Reads until `marker` has arrived (or the time is up); returns all of it.
std::string recv_until(int fd, const std::string& marker, std::chrono::milliseconds timeout);
// Reads one response (Content-Length or chunked); `buffered` keeps what
// arrived past it.
Reply read_reply(int fd, std::string& buffered, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

std::string get(const std::string& target, const std::string& extra_fields = "");
std::string hex(size_t n);

}  // namespace faultline::test
