// Request bodies for every endpoint that reads one, straight into the API
// handler (no HTTP): Go-compatible JSON decoding, validation and the
// registry's all-or-nothing changes. The first byte picks the endpoint; a
// proxy "p" with a toxic "t" exists before each input, so updates reach
// real objects.
#include <cstddef>
#include <cstdint>
#include <string>

#include "FuzzServer.h"

namespace {

using namespace faultline;

struct Endpoint {
  const char* method;
  const char* path;
};

constexpr Endpoint kEndpoints[] = {
    {"POST", "/proxies"},           {"POST", "/proxies/p"},          {"PATCH", "/proxies/p"},
    {"POST", "/proxies/p/toxics"},  {"POST", "/proxies/p/toxics/t"}, {"PATCH", "/proxies/p/toxics/t"},
    {"POST", "/populate"},          {"POST", "/reset"},              {"GET", "/proxies"},
};

fuzz::FuzzServer& server() {
  static fuzz::FuzzServer* instance = new fuzz::FuzzServer;
  return *instance;
}

void prepare(fuzz::FuzzServer& s) {
  s.forget_everything();
  s.api().handle({"POST", "/proxies", "", R"({"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})"});
  s.api().handle({"POST", "/proxies/p/toxics", "", R"({"name":"t","type":"latency","attributes":{"latency":1}})"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::FuzzServer& s = server();
  prepare(s);
  const Endpoint& e = kEndpoints[data[0] % std::size(kEndpoints)];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  const api::Response r = s.api().handle({e.method, e.path, "fuzz", body});
  if (r.status >= 500 && r.status != 500) std::abort();  // only a listen error may be a 500
  return 0;
}
