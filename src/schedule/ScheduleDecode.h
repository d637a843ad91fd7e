#pragma once
// A schedule's JSON (POST /faultline/schedules) to a ScheduleSpec. Every
// refusal is a 400 naming the field, the value and what is allowed.
#include <string>

#include "json/RequestBody.h"
#include "schedule/ScheduleSpec.h"

namespace faultline {

ScheduleSpec decode_schedule(const json::Value& doc);

// A ramp's or wave's two ends must both be values the attribute accepts.
void check_modulation_range(const ScheduleSpec& spec, const AttributeSchema& attribute);

}  // namespace faultline
