#pragma once
// Load generators. Each is bounded in time and in count, talks to one port on
// 127.0.0.1, and returns raw figures; none of them knows whether the port is
// a proxy or the upstream itself.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fbench {

// One TCP connection, 64-byte messages, write -> read the echo -> next.
// Round-trip times in ns (after `warmup` unrecorded round trips).
struct PingPongResult {
  std::vector<double> rtt_ns;
  std::string error;
};
PingPongResult ping_pong(int port, double seconds, int warmup, size_t max_samples = 2'000'000);

// Open-loop request stream on one connection: a 64-byte request every
// `interval_ms`, `count` requests; each reply's RTT in ns (for a latency toxic:
// replies come back in order, each delayed).
PingPongResult paced_requests(int port, int count, double interval_ms, double timeout_s);

// New connections: `in_flight` at a time, each connect -> send 32 B -> read
// 32 B -> read EOF (the upstream closes first) -> close.
struct ConnRateResult {
  uint64_t completed = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> conn_ns;  // connect to EOF, per completed connection
  std::string first_error;
};
ConnRateResult conn_rate(int port, int in_flight, double seconds, uint64_t max_conns = 500'000);

// Many idle connections: open `count` (batches of 500), prove each with a
// 1-byte echo, call `hold` (measure there), prove each again, close them.
struct ScaleResult {
  int opened = 0;
  int verified = 0;        // echoed before the hold
  int verified_after = 0;  // echoed again after the hold
  double open_seconds = 0;
  std::string first_error;
};
ScaleResult hold_idle(int port, int count, const std::function<void()>& hold);

// Bulk sender: `streams` connections writing as fast as they can for
// `seconds`; returns bytes written (the caller reads what the sink received).
uint64_t bulk_send(int port, int streams, double seconds);

// Reads what a source pushes through `port`: ignores `warmup_s`, then returns
// the bytes per second over `seconds`.
double read_rate(int port, double warmup_s, double seconds, std::string& error);

}  // namespace fbench
