#pragma once
// A load run as a user writes it (on the command line, or as the arguments
// of an experiment's `load` activity): texts such as "10s" and "2000/s".
// `to_load_options` checks every field and turns it into LoadOptions; a bad
// value is a std::invalid_argument naming the field, the value and what is
// allowed. Both front ends share it, so they accept exactly the same runs.
#include <string>
#include <utility>
#include <vector>

#include "load/LoadRun.h"

namespace faultline::load {

struct LoadSettings {
  std::vector<std::string> targets;
  std::string duration = "10s", warmup = "2s", timeout = "1s", interval = "1s", rate;
  size_t concurrency = 0, connections = 64, threads = 0, payload = 64, pipeline = 1;
  uint64_t keys = 1000, seed = 1;
  int expect_status = 0;
  bool new_connections = false, check_targets = true;
  std::string events, method = "GET", body, mix;
  std::vector<std::string> headers;  // "Name: value"
};

// `flag` spells a field as the caller's user knows it: "--rate" or "rate".
using FieldName = std::string (*)(const char* field);
std::string command_line_flag(const char* field);  // "new_connections" -> "--new-connections"

LoadOptions to_load_options(const LoadSettings& settings, FieldName name = command_line_flag);

// "2000/s", "2000", "120/m", "5k/s" -> requests per second; throws
// std::invalid_argument naming `what`.
double parse_request_rate(const std::string& text, const std::string& what = "--rate");

}  // namespace faultline::load
