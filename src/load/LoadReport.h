#pragma once
// The outputs of a load run: the table printed at the end, the JSON file
// (--json) and the HTML report (--report, see HtmlReport.h).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "load/LoadResult.h"

namespace faultline::load {

std::string summary_table(const LoadResult& result);
nlohmann::json result_json(const LoadResult& result);

}  // namespace faultline::load
