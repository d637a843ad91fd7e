#include "engine/Resolver.h"

namespace faultline {

Resolver::Resolver() : thread_([this] { run(); }) {}

Resolver::~Resolver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Resolver::resolve(std::string address, Callback done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(Job{std::move(address), std::move(done)});
  }
  wake_.notify_one();
}

void Resolver::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::string error;
    auto addresses = net::resolve_address(job.address, error);
    job.done(std::move(addresses), std::move(error));
  }
}

}  // namespace faultline
