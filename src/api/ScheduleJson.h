#pragma once
// The JSON of /faultline/schedules.
#include <string>
#include <vector>

#include "schedule/Scheduler.h"

namespace faultline::api {

std::string schedule_json(const ScheduleView& schedule);
std::string schedules_json(const std::vector<ScheduleView>& schedules);

}  // namespace faultline::api
