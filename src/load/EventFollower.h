#pragma once
// Follows a faultline server's event stream during a load run, on a thread
// of its own: it reads the faults already present (GET /proxies), then
// polls /faultline/events?poll=1 from the last id it has, every 50 ms. The
// events carry the server's own microsecond timestamps, so polling adds no
// error to the fault windows, only to the live line.
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load/FaultWindows.h"

namespace faultline::load {

class EventFollower {
 public:
  EventFollower(std::string api_url, int64_t run_start_us);
  ~EventFollower();
  // Reads the current state and the last event id; throws std::runtime_error
  // with a one-line message when the server cannot be used.
  void start();
  void stop();  // one last poll, then the thread ends

  std::vector<nlohmann::json> events() const;
  std::vector<FaultWindow> windows() const;
  std::vector<std::string> active() const;
  std::vector<std::string> warnings() const;

 private:
  void poll_once();
  void loop();

  std::string url_;
  mutable std::mutex mutex_;
  FaultTracker tracker_;
  std::vector<nlohmann::json> events_;
  std::vector<std::string> warnings_;
  uint64_t last_id_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace faultline::load
