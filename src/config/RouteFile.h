#pragma once
// Seed 002's chaos-proxy route files, accepted by -config as they are: a
// JSON or YAML array of {localPort, upstream, dropRate, latencyMs}. Detected
// by their keys, checked with that tool's rules (IP-only upstreams, ports 1
// to 65535, no duplicate ports, a rate from 0 to 1, a latency of 0 or more),
// each error naming the route, the field, the value and what is allowed, and
// mapped to proxies named route_<port> listening on 127.0.0.1:<port>, with a
// `drop` toxic (mode closed, toxicity dropRate) and a `latency` toxic
// (latencyMs on the replies) when those are not 0.
#include <string>

#include "config/ConfigFile.h"
#include "json/RequestBody.h"

namespace faultline {

// True when `doc` is a route file: an array whose entries have "localPort".
bool is_route_file(const json::Value& doc);

// Throws ConfigError (`origin: route #N (localPort P): field ...`).
LoadedConfig routes_to_proxies(const json::Value& doc, const std::string& origin);

}  // namespace faultline
