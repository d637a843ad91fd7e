#include "load/EventFollower.h"

#include <chrono>
#include <stdexcept>

#include "cli/ApiClient.h"

namespace faultline::load {

EventFollower::EventFollower(std::string api_url, int64_t run_start_us) : url_(std::move(api_url)), tracker_(run_start_us) {}

EventFollower::~EventFollower() { stop(); }

void EventFollower::start() {
  cli::ApiClient api(url_);
  nlohmann::json buffered, proxies;
  try {
    buffered = nlohmann::json::parse(api.get("/faultline/events?poll=1&limit=100000"));
    proxies = nlohmann::json::parse(api.get("/proxies"));
  } catch (const cli::ApiError& e) {
    throw std::runtime_error("--events " + url_ + ": " + e.what() +
                             (e.status() == 404 ? " (the event stream needs a faultline server)" : ""));
  } catch (const cli::UnreachableError& e) {
    throw std::runtime_error("--events " + url_ + ": cannot reach the API: " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("--events " + url_ + ": the server's answer is not JSON: " + e.what());
  }
  for (const auto& e : buffered)
    if (e.contains("id") && e["id"].is_number_unsigned()) last_id_ = std::max(last_id_, e["id"].get<uint64_t>());
  // Faults present before the run: they count from its first moment.
  if (proxies.is_object()) {
    for (const auto& [name, p] : proxies.items()) {
      if (p.value("enabled", true) == false) tracker_.already_active(name, "disabled", "proxy disabled");
      if (p.contains("toxics") && p["toxics"].is_array())
        for (const auto& t : p["toxics"])
          tracker_.already_active(name, "toxic:" + t.value("name", ""),
                                  "toxic " + t.value("name", "") + " (" + t.value("type", "") + ", " + t.value("stream", "") + ")");
    }
  }
  thread_ = std::thread([this] { loop(); });
}

void EventFollower::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  thread_.join();
  poll_once();  // what happened up to the very end
}

void EventFollower::loop() {
  while (!stopping_) {
    poll_once();
    for (int i = 0; i < 5 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void EventFollower::poll_once() {
  nlohmann::json page;
  try {
    cli::ApiClient api(url_);
    page = nlohmann::json::parse(api.get("/faultline/events?poll=1&since=" + std::to_string(last_id_)));
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    if (warnings_.size() < 5) warnings_.push_back(std::string("event stream: ") + e.what());
    return;
  }
  std::lock_guard lock(mutex_);
  for (const auto& e : page) {
    if (e.value("type", "") == "dropped") {
      warnings_.push_back("event stream: " + std::to_string(e.value("dropped", 0)) + " events were missed (fault windows may be incomplete)");
      continue;
    }
    if (e.contains("id") && e["id"].is_number_unsigned()) last_id_ = std::max(last_id_, e["id"].get<uint64_t>());
    events_.push_back(e);
    tracker_.observe(e);
  }
}

std::vector<nlohmann::json> EventFollower::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}
std::vector<FaultWindow> EventFollower::windows() const {
  std::lock_guard lock(mutex_);
  return tracker_.windows();
}
std::vector<std::string> EventFollower::active() const {
  std::lock_guard lock(mutex_);
  return tracker_.active();
}
std::vector<std::string> EventFollower::warnings() const {
  std::lock_guard lock(mutex_);
  return warnings_;
}

}  // namespace faultline::load
