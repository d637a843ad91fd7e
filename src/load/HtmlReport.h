#pragma once
// --report FILE.html: one self-contained page (inline SVG and CSS, no
// scripts, nothing fetched) with latency percentiles, throughput and error
// rate over time, fault windows shaded, and the summary tables.
#include <string>

#include "load/LoadResult.h"

namespace faultline::load {

std::string html_report(const LoadResult& result);

}  // namespace faultline::load
