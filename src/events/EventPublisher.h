#pragma once
// Turns the registry's and the scheduler's typed changes into events on the
// journal, encoded once as JSON (the toxic as the API shows it).
#include "control/ControlChange.h"
#include "events/EventJournal.h"
#include "model/ChaosEvent.h"

namespace faultline {

class EventPublisher final : public ChangeObserver, public ChaosObserver {
 public:
  explicit EventPublisher(EventJournal& journal) : journal_(journal) {}
  void changed(const ControlChange& change) override;
  // From the event loops: an "http_fault" event.
  void http_fault(const ChaosEvent& event, const HttpFault& fault) override;

 private:
  EventJournal& journal_;
};

}  // namespace faultline
