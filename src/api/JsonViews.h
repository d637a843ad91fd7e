#pragma once
// Model objects as the JSON Toxiproxy clients expect: keys in Toxiproxy's
// order, compact, no trailing newline.
#include <string>
#include <vector>

#include "control/Registry.h"

namespace faultline::api {

void append_toxic(std::string& out, const ToxicSpec& toxic);
void append_proxy(std::string& out, const ProxyView& proxy);
std::string toxic_json(const ToxicSpec& toxic);
std::string proxy_json(const ProxyView& proxy);
std::string toxics_json(const std::vector<ToxicSpec>& toxics);
std::string proxy_map_json(const std::vector<ProxyView>& proxies);  // {"name":{...},...}
std::string populate_json(const std::vector<ProxyView>* proxies);   // {"proxies":[...]} or null
std::string error_json(int status, const std::string& message);     // {"error":"...","status":N}
// faultline's own GET /faultline/stats: live figures per proxy, keyed by name.
std::string stats_json(const std::vector<ProxyMetricsView>& proxies);

}  // namespace faultline::api
