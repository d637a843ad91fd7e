#include "HttpClient.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "Sockets.h"

namespace faultline::test {

HttpResponse parse_response(const std::string& text, size_t* consumed) {
  HttpResponse r;
  const size_t head_end = text.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("incomplete HTTP response: " + text.substr(0, 200));
  const std::string head = text.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  r.status_line = head.substr(0, line_end);
  r.status = std::stoi(r.status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    const std::string line = head.substr(pos, next - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = next + 2;
  }
  size_t body_start = head_end + 4;
  size_t length = text.size() - body_start;
  if (r.has_header("content-length")) length = std::stoul(r.header("content-length"));
  else if (r.status == 204 || r.status == 304 || r.status / 100 == 1) length = 0;
  r.body = text.substr(body_start, length);
  if (consumed) *consumed = body_start + std::min(length, text.size() - body_start);
  return r;
}

HttpResponse HttpClient::request(const std::string& method, const std::string& path, const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) const {
  Socket s(connect_tcp(port_, host_));
  if (!s.valid()) throw std::runtime_error("cannot connect to the API on port " + std::to_string(port_));
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nConnection: close\r\n";
  bool has_ua = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    if (k == "User-Agent") has_ua = true;
  }
  if (!has_ua) req += "User-Agent: faultline-tests\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  s.send(req);
  ReadResult got = recv_all(s.fd(), std::chrono::seconds(10));
  if (got.end == ReadEnd::Timeout) throw std::runtime_error("API did not answer within 10 s: " + method + " " + path);
  return parse_response(got.data);
}

std::string HttpClient::raw(const std::string& bytes, int quiet_ms) const {
  Socket s(connect_tcp(port_, host_));
  if (!s.valid()) throw std::runtime_error("cannot connect to the API");
  s.send(bytes);
  ReadResult got = recv_all(s.fd(), std::chrono::milliseconds(quiet_ms));
  return got.data;
}

}  // namespace faultline::test
