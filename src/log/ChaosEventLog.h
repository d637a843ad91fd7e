#pragma once
// Chaos events as log lines: a toxic applied is debug (it happens on every
// connection), a fault that ends a connection is info.
#include "model/ChaosEvent.h"

namespace faultline {

void log_chaos_event(const ChaosEvent& event);

}  // namespace faultline
