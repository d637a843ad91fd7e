#include "engine/EventLoop.h"

#include "log/Log.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace faultline {

class EventLoop::Wakeup final : public IoHandler {
 public:
  explicit Wakeup(int fd) : fd_(fd) {}
  void on_io(uint32_t) override {
    uint64_t value;
    [[maybe_unused]] auto n = ::read(fd_, &value, sizeof value);
  }

 private:
  int fd_;
};

EventLoop::EventLoop(const TimeSource& time) : time_(time) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
  wakeup_ = std::make_unique<Wakeup>(wake_fd_);
  watch(wake_fd_, EPOLLIN, wakeup_.get());
}

EventLoop::~EventLoop() {
  graveyard_.clear();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::stop() {
  stopping_.store(true);
  post([] {});
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  if (!wake_pending_.exchange(true)) {
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
}

void EventLoop::watch(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::runtime_error(std::string("epoll_ctl add: ") + std::strerror(errno));
}

void EventLoop::rewatch(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::unwatch(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

Continuable::~Continuable() {
  if (queued_in_) queued_in_->forget(this);
}

void EventLoop::resume_soon(Continuable* c) {
  if (c->queued_in_) return;
  c->queued_in_ = this;
  ready_.push_back(c);
}

void EventLoop::forget(Continuable* c) {
  if (c->queued_in_ != this) return;
  // It may sit in the list being filled or in the batch being run.
  std::replace(ready_.begin(), ready_.end(), c, static_cast<Continuable*>(nullptr));
  std::replace(resuming_.begin(), resuming_.end(), c, static_cast<Continuable*>(nullptr));
  c->queued_in_ = nullptr;
}

void EventLoop::dispose(std::unique_ptr<Disposable> object) { graveyard_.push_back(std::move(object)); }

void EventLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
    wake_pending_.store(false);
  }
  for (auto& fn : batch) {
    // Work posted from another thread (a control change) must never take the
    // loop down with it: whatever it throws is logged, and the loop goes on.
    try {
      fn();
    } catch (const std::exception& e) {
      log::error("posted work failed", {{"error", e.what()}});
    } catch (...) {
      log::error("posted work failed", {{"error", "unknown exception"}});
    }
  }
}

void EventLoop::run_ready() {
  // What a resume queues runs in the next round, after the loop looked at
  // its sockets again; what a resume closes is taken out of this batch.
  resuming_.swap(ready_);
  for (size_t i = 0; i < resuming_.size(); ++i) {
    Continuable* c = resuming_[i];
    if (!c) continue;
    resuming_[i] = nullptr;
    c->queued_in_ = nullptr;
    c->resume();
  }
  resuming_.clear();
}


void EventLoop::run() {
  // Timers should fire when due, not up to 50 us later (the default slack).
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_relaxed)) {
    timespec timeout{};
    timespec* timeout_ptr = &timeout;
    if (ready_.empty()) {
      if (timers_.empty()) {
        timeout_ptr = nullptr;  // nothing due: sleep until an event
      } else {
        const auto wait = std::max(Nanos(0), std::chrono::duration_cast<Nanos>(timers_.next_deadline() - now()));
        timeout.tv_sec = static_cast<time_t>(wait.count() / 1'000'000'000);
        timeout.tv_nsec = static_cast<long>(wait.count() % 1'000'000'000);
      }
    }
    const int n = ::epoll_pwait2(epoll_fd_, events, kMaxEvents, timeout_ptr, nullptr);
    for (int i = 0; i < n; ++i) static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    if (!timers_.empty()) timers_.run_due(now());
    run_ready();
    run_posted();
    graveyard_.clear();
  }
  run_posted();
  graveyard_.clear();
}

}  // namespace faultline
