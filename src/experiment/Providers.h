#pragma once
// What an activity does: its provider, run with its substituted arguments.
// Each returns the activity's output (JSON) or throws ActivityFailed, which
// the journal records as the activity's exception.
#include <atomic>
#include <stdexcept>
#include <string>

#include "experiment/Experiment.h"

namespace faultline::experiment {

class ActivityFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// http: url, method (GET), headers, arguments (a JSON body, or the query of
// a GET), timeout (s), expected_status; output {status, headers, body}
// with the body parsed when it is JSON.
Json run_http(const Json& provider);
// process: path, arguments (a list, or a string split at spaces), timeout
// (s); run without a shell; output {status, stdout, stderr}.
Json run_process(const Json& provider, const std::atomic<bool>& interrupted);
// python: the Chaos Toolkit Toxiproxy extension's functions (chaostoxi.*),
// run natively against the API named by `configuration` (toxiproxy_url, or
// toxiproxy_host and toxiproxy_port). Anything else is refused.
Json run_toxiproxy_extension(const Json& provider, Json& values);
// Before anything runs: a python module/function this runner does not have.
void check_python_provider(const Json& provider, const std::string& where);

Json run_provider(const Json& provider, Json& values, const std::atomic<bool>& interrupted);

}  // namespace faultline::experiment
