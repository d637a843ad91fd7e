#pragma once
// What an activity does: its provider, run with its substituted arguments.
// Each returns the activity's output (JSON) or throws ActivityFailed, which
// the journal records as the activity's exception.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

#include "experiment/Experiment.h"

namespace faultline::experiment {

class ActivityFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a provider may use while it runs: the run's values (configuration,
// secrets, NAME_PORT set by proxy actions), Ctrl+C, and the activity's own
// `timeout`, which every provider honours (an http exchange, a process, a
// load run, a wait all end by it).
struct ActivityContext {
  using Clock = std::chrono::steady_clock;
  Json& values;
  const std::atomic<bool>& interrupted;
  Clock::time_point deadline = Clock::time_point::max();
  const std::atomic<bool>* halted = nullptr;  // the runner stopped the method (--fail-fast)

  bool cancelled() const { return interrupted.load() || (halted && halted->load()); }
  bool expired() const { return Clock::now() >= deadline; }
  bool stop() const { return cancelled() || expired(); }
  // The provider's own limit, cut to what the activity has left.
  double limit_s(double own_s) const;
};

// http: url, method (GET), headers, arguments (a JSON body, or the query of
// a GET), timeout (s), expected_status; output {status, headers, body}
// with the body parsed when it is JSON.
Json run_http(const Json& provider, const ActivityContext& context);
// process: path, arguments (a list, or a string split at spaces), timeout
// (s); run without a shell; output {status, stdout, stderr}.
Json run_process(const Json& provider, const ActivityContext& context);
// python: the Chaos Toolkit Toxiproxy extension's functions (chaostoxi.*),
// run natively against the API named by `configuration` (toxiproxy_url, or
// toxiproxy_host and toxiproxy_port). Anything else is refused.
Json run_toxiproxy_extension(const Json& provider, ActivityContext& context);
// faultline: this project's own functions (FaultlineProvider.cpp): API
// calls by name, `load`, `wait_for`.
Json run_faultline(const Json& provider, ActivityContext& context);

Json run_provider(const Json& provider, ActivityContext& context);

struct ToleranceResult;
// Tolerance.h's check, plus the one form it cannot do alone: a probe
// tolerance, which runs its provider with the output as argument `value`
// (a process gets it as its last argument) and is met when that succeeds
// and answers yes (true, a non-zero number, a process that exits 0, an
// http status below 400).
ToleranceResult within_tolerance(const Json& tolerance, const Json& output, ActivityContext& context);

// Before anything runs: a provider this runner cannot run (an unknown type,
// a python module or function it does not have, an unknown faultline
// function). Throws ExperimentError naming `where`.
void check_provider(const Json& provider, const std::string& where);
void check_python_provider(const Json& provider, const std::string& where);
void check_faultline_provider(const Json& provider, const std::string& where);

// Like the Toxiproxy extension, a proxy created or changed by an activity
// records its port as ${NAME_PORT} for the activities after it.
void remember_proxy_port(const Json& proxy, Json& values);

// The API a run talks to: configuration's faultline_url, else the
// extension's toxiproxy_url or toxiproxy_host/toxiproxy_port, else
// $FAULTLINE_URL or $TOXIPROXY_URL (as the CLI), else http://localhost:8474.
std::string api_url(const Json& values);

}  // namespace faultline::experiment
