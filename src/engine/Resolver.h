#pragma once
// Host name lookups off the event loops: getaddrinfo blocks, so it runs on
// a small thread of its own and the answer is posted back to the asking loop.
// Upstreams given as IP literals never come here.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/SocketAddress.h"

namespace faultline {

class Resolver {
 public:
  using Callback = std::function<void(std::vector<net::SocketAddress>, std::string error)>;
  Resolver();
  ~Resolver();
  // `done` runs on the resolver thread: it should post to its loop.
  void resolve(std::string address, Callback done);

 private:
  void run();
  struct Job {
    std::string address;
    Callback done;
  };
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace faultline
