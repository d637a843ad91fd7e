#include "HttpPeers.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

#include "Sockets.h"

namespace faultline::test {

using namespace std::chrono_literals;

std::string hex(size_t n) {
  char out[32];
  std::snprintf(out, sizeof out, "%zx", n);
  return out;
}

std::string get(const std::string& target, const std::string& extra_fields) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_fields + "\r\n";
}

std::string recv_some(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
  char buf[65536];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string recv_until(int fd, const std::string& marker, std::chrono::milliseconds timeout) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) got += recv_some(fd, 100ms);
  return got;
}

namespace {

void send_pattern(int fd, uint64_t n) {
  std::string piece;
  for (uint64_t at = 0; at < n;) {
    const uint64_t len = std::min<uint64_t>(65536, n - at);
    piece.resize(len);
    for (uint64_t i = 0; i < len; ++i) piece[i] = byte_pattern(at + i);
    send_all(fd, piece);
    at += len;
  }
}

}  // namespace

namespace {
void serve_http(int fd, std::atomic<int>* requests);
}

TestUpstream::Handler http_upstream(std::atomic<int>* requests) {
  return [requests](int fd) {
    try {
      serve_http(fd, requests);
    } catch (const std::exception&) {
      // The proxy cut the connection (an abort toxic): this upstream is done with it.
    }
  };
}

namespace {
void serve_http(int fd, std::atomic<int>* requests) {
  {
    std::string pending;
    char buf[16384];
    int served = 0;
    auto read_more = [&] {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      pending.append(buf, static_cast<size_t>(n));
      return true;
    };
    for (;;) {
      size_t end;
      while ((end = pending.find("\r\n\r\n")) == std::string::npos)
        if (!read_more()) return;
      const std::string head = pending.substr(0, end + 4);
      pending.erase(0, end + 4);
      size_t length = 0;
      if (auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
      while (pending.size() < length)
        if (!read_more()) return;
      pending.erase(0, length);
      if (requests) ++*requests;
      const std::string line = head.substr(0, head.find(" HTTP/"));
      const std::string target = line.substr(line.find(' ') + 1);
      const std::string body = line + " #" + std::to_string(++served);
      const bool head_request = line.rfind("HEAD ", 0) == 0;
      if (target == "/upgrade") {
        send_all(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
        for (;;) {
          if (!pending.empty()) send_all(fd, pending);
          pending.clear();
          if (!read_more()) return;
        }
      }
      if (target == "/chunked") {
        send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" + hex(body.size()) + "\r\n" + body +
                         "\r\n0\r\n\r\n");
      } else if (target.rfind("/bytes/", 0) == 0) {
        const uint64_t n = std::stoull(target.substr(7));
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n");
        if (!head_request) send_pattern(fd, n);
      } else if (target == "/echo-head") {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(head.size()) + "\r\n\r\n" + head);
      } else {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                         (head_request ? "" : body));
      }
      if (head.find("Connection: close") != std::string::npos) return;
    }
  }
}
}  // namespace

Reply read_reply(int fd, std::string& buffered, std::chrono::milliseconds timeout) {
  Reply r;
  auto fill = [&] {
    const std::string more = recv_some(fd, timeout);
    if (more.empty()) return false;
    buffered += more;
    return true;
  };
  size_t end;
  while ((end = buffered.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return r;
  r.head = buffered.substr(0, end + 4);
  buffered.erase(0, end + 4);
  r.status = std::stoi(r.head.substr(9, 3));
  if (r.head.find("Transfer-Encoding: chunked") != std::string::npos) {
    for (;;) {
      size_t eol;
      while ((eol = buffered.find("\r\n")) == std::string::npos)
        if (!fill()) return r;
      const size_t size = std::stoul(buffered.substr(0, eol), nullptr, 16);
      while (buffered.size() < eol + 2 + size + 2)
        if (!fill()) return r;
      r.body += buffered.substr(eol + 2, size);
      buffered.erase(0, eol + 2 + size + 2);
      if (size == 0) {
        r.complete = true;
        return r;
      }
    }
  }
  size_t length = 0;
  if (auto at = r.head.find("Content-Length: "); at != std::string::npos) length = std::stoul(r.head.substr(at + 16));
  while (buffered.size() < length)
    if (!fill()) {
      r.body = buffered;
      buffered.clear();
      return r;
    }
  r.body = buffered.substr(0, length);
  buffered.erase(0, length);
  r.complete = true;
  return r;
}

}  // namespace faultline::test
