#include "log/ChaosEventLog.h"

#include "log/Log.h"

namespace faultline {

void log_chaos_event(const ChaosEvent& event) {
  const log::Level level = event.kind == ChaosEventKind::ToxicApplied ? log::Level::Debug : log::Level::Info;
  if (!log::enabled(level)) return;
  if (event.detail.empty())
    log::write(level, describe(event.kind),
               {{"proxy", event.proxy},
                {"connection", event.connection},
                {"toxic", event.toxic},
                {"type", event.toxic_type},
                {"stream", to_string(event.direction)}});
  else
    log::write(level, describe(event.kind),
               {{"proxy", event.proxy},
                {"connection", event.connection},
                {"toxic", event.toxic},
                {"type", event.toxic_type},
                {"stream", to_string(event.direction)},
                {"detail", event.detail}});
}

}  // namespace faultline
