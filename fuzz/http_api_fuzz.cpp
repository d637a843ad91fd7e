// The whole admin API, end to end: the input is sent as raw bytes to the
// real HTTP server over a loopback connection, through parsing, routing,
// handlers and the registry, as any client could send it. The server must
// answer or hang up; any crash, leak or sanitizer report is a finding.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "FuzzServer.h"
#include "api/HttpServer.h"

namespace {

using namespace faultline;

struct ApiUnderTest {
  fuzz::FuzzServer server;
  // Streamed answers (server-sent events) are cut to their first part: a
  // stream never ends by itself, and the harness waits for the end.
  api::HttpServer http{make_options(), [this](const api::Request& r) {
                         api::Response response = server.api().handle(r);
                         response.stream.reset();
                         return response;
                       }};
  std::thread thread;
  int port = 0;

  static api::HttpServerOptions make_options() {
    api::HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = "0";
    o.read_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  ApiUnderTest() {
    if (!http.bind().empty()) std::abort();
    const std::string address = http.addresses().front();
    port = std::stoi(address.substr(address.rfind(':') + 1));
    thread = std::thread([this] { http.run(nullptr); });
  }
};

ApiUnderTest& api_under_test() {
  static ApiUnderTest* instance = new ApiUnderTest;  // lives as long as the process
  return *instance;
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  return fd;
}

// Sends everything while reading what comes back (a pipelined input may get
// more reply than the socket buffers hold), then reads until the server hangs up.
void exchange(int fd, const uint8_t* data, size_t size) {
  size_t sent = 0;
  bool write_closed = false;
  char reply[65536];
  for (int rounds = 0; rounds < 10000; ++rounds) {
    if (sent == size && !write_closed) {
      ::shutdown(fd, SHUT_WR);
      write_closed = true;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (write_closed ? 0 : POLLOUT)), 0};
    // A server that neither answers nor hangs up is a finding, but a loaded
    // 2-core machine (and libFuzzer's leak-check reruns) can stall one for
    // seconds: wait long, and let libFuzzer's -timeout judge a real hang.
    if (::poll(&p, 1, 20000) <= 0) std::abort();
    if (p.revents & POLLOUT) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN) write_closed = true;  // the server hung up on us: fine
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(fd, reply, sizeof reply, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ApiUnderTest& api = api_under_test();
  const int fd = connect_loopback(api.port);
  exchange(fd, data, size);
  ::close(fd);
  api.server.forget_everything();
  return 0;
}
