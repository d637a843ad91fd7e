#pragma once
// A real control plane for the fuzz targets: one data-plane worker, the
// registry, the API handler. Built once per process; `forget_everything()`
// deletes every proxy between inputs, so inputs cannot pile up listeners.
#include <memory>

#include "api/Api.h"
#include "control/Registry.h"
#include "engine/Engine.h"
#include "events/EventJournal.h"
#include "events/EventPublisher.h"
#include "log/Log.h"

namespace faultline::fuzz {

class FuzzServer {
 public:
  FuzzServer() {
    log::init(log::Level::Off, log::Format::Text);
    EngineSettings settings;
    settings.workers = 1;
    settings.seed = 1;
    engine_ = std::make_unique<Engine>(settings);
    registry_ = std::make_unique<Registry>(*engine_);
    registry_->set_observer(&publisher_);  // every change the fuzzer makes is an event too
    api::ApiOptions options;
    options.version = "fuzz";
    options.journal = &journal_;
    api_ = std::make_unique<api::Api>(*registry_, options);
  }

  api::Api& api() { return *api_; }
  Registry& registry() { return *registry_; }

  void forget_everything() {
    for (const auto& p : registry_->list_proxies()) registry_->delete_proxy(p.spec.name);
  }

 private:
  EventJournal journal_{256};  // small, so inputs also exercise "dropped"
  EventPublisher publisher_{journal_};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<api::Api> api_;
};

}  // namespace faultline::fuzz
