#pragma once
// One reactor thread: epoll for sockets, a timer heap for deadlines, a queue
// for work posted from other threads, and a ready list for handlers that
// stopped early to let others run. Everything registered with a loop is only
// ever touched from that loop's thread, so none of it needs locks.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/Clock.h"
#include "engine/TimerQueue.h"

namespace faultline {

// Receives readiness events for one file descriptor.
class IoHandler {
 public:
  virtual void on_io(uint32_t epoll_events) = 0;

 protected:
  ~IoHandler() = default;
};

class EventLoop;

// Something that has more work to do and asked to be called again soon.
// One destroyed while queued takes itself off its loop's list.
class Continuable {
 public:
  virtual void resume() = 0;
  bool queued_for_resume() const { return queued_in_ != nullptr; }

 protected:
  Continuable() = default;
  Continuable(const Continuable&) = delete;
  Continuable& operator=(const Continuable&) = delete;
  ~Continuable();

 private:
  friend class EventLoop;
  EventLoop* queued_in_ = nullptr;
};

// Something whose destruction must wait until the loop has finished
// dispatching the current batch of events (which may still point at it).
class Disposable {
 public:
  virtual ~Disposable() = default;
};

class EventLoop {
 public:
  explicit EventLoop(const TimeSource& time = system_time());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop() is called. Call from the loop's own thread.
  void run();
  void stop();  // any thread

  // Runs `fn` on the loop's thread. Any thread.
  void post(std::function<void()> fn);

  // Loop-thread only from here on.
  void watch(int fd, uint32_t events, IoHandler* handler);
  void rewatch(int fd, uint32_t events, IoHandler* handler);
  void unwatch(int fd);
  void resume_soon(Continuable* c);
  void forget(Continuable* c);  // before destroying a Continuable that may be queued
  void dispose(std::unique_ptr<Disposable> object);
  void collect_garbage() { graveyard_.clear(); }
  TimerQueue& timers() { return timers_; }
  TimePoint now() const { return time_.now(); }
  const TimeSource& time() const { return time_; }

 private:
  class Wakeup;
  void run_posted();
  void run_ready();

  const TimeSource& time_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> wake_pending_{false};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<Continuable*> ready_;
  std::vector<Continuable*> resuming_;  // the batch run_ready is working through
  std::vector<std::unique_ptr<Disposable>> graveyard_;
  TimerQueue timers_;
  std::unique_ptr<Wakeup> wakeup_;
};

}  // namespace faultline
