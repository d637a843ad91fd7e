#pragma once
// State one toxic keeps across all of its proxy's connections, on every
// event loop: bandwidth's shared pace is the first. It lives as long as the
// toxic (every snapshot of one toxic points at the same one) and is made on
// first use by the toxic's stage, so other toxics pay nothing for it.
#include <memory>
#include <mutex>

namespace faultline {

class ProxyWideState {
 public:
  // The toxic's object of type T, made with T{} on first use. One toxic is
  // always of one type, so the slot always holds a T. T does its own locking.
  template <class T>
  std::shared_ptr<T> get() {
    std::lock_guard lock(mutex_);
    if (!slot_) slot_ = std::make_shared<T>();
    return std::static_pointer_cast<T>(slot_);
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<void> slot_;
};

}  // namespace faultline
