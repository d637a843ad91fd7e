#pragma once
// Turns the registry's and the scheduler's typed changes into events on the
// journal, encoded once as JSON (the toxic as the API shows it).
#include "control/ControlChange.h"
#include "events/EventJournal.h"

namespace faultline {

class EventPublisher final : public ChangeObserver {
 public:
  explicit EventPublisher(EventJournal& journal) : journal_(journal) {}
  void changed(const ControlChange& change) override;

 private:
  EventJournal& journal_;
};

}  // namespace faultline
