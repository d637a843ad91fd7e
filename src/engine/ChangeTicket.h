#pragma once
// A change posted to every event loop. The control plane posts under its
// lock (so every loop sees changes in the order they were made) and waits on
// the ticket after letting the lock go (so nothing waits on a loop while
// holding it). A ticket may carry a last step, run by whichever loop finishes
// last: closing a listening socket only once no loop watches it.
#include <functional>
#include <atomic>
#include <latch>
#include <memory>
#include <vector>

namespace faultline {

class ChangeTicket {
 public:
  ChangeTicket() = default;  // already complete
  ChangeTicket(size_t loops, std::function<void()> when_all_done, bool waitable)
      : state_(std::make_shared<State>(loops, std::move(when_all_done))), waitable_(waitable) {}

  // One loop has applied the change (called on that loop's thread).
  void count_down() const {
    if (!state_) return;
    if (state_->remaining.fetch_sub(1) == 1 && state_->when_all_done) state_->when_all_done();
    state_->done.count_down();
  }
  // Returns once every loop has applied the change. From a loop's own thread
  // it returns at once: that loop cannot run the change while it waits, and
  // the change still reaches every loop, in order.
  void wait() const {
    if (state_ && waitable_) state_->done.wait();
  }

 private:
  struct State {
    State(size_t loops, std::function<void()> fn)
        : done(static_cast<std::ptrdiff_t>(loops)), remaining(loops), when_all_done(std::move(fn)) {}
    std::latch done;
    std::atomic<size_t> remaining;
    std::function<void()> when_all_done;
  };
  std::shared_ptr<State> state_;
  bool waitable_ = true;
};

// The tickets of one control operation, waited for together.
class PendingChanges {
 public:
  void add(ChangeTicket t) { tickets_.push_back(std::move(t)); }
  void wait() const {
    for (const auto& t : tickets_) t.wait();
  }

 private:
  std::vector<ChangeTicket> tickets_;
};

}  // namespace faultline
