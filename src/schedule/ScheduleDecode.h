#pragma once
// A schedule's JSON (POST /faultline/schedules) to a ScheduleSpec. Every
// refusal is a 400 naming the field, the value and what is allowed.
#include <string>

#include "json/RequestBody.h"
#include "schedule/ScheduleSpec.h"

namespace faultline {

ScheduleSpec decode_schedule(const json::Value& doc);

}  // namespace faultline
