#pragma once
// Runs toxic stages in-process, without sockets or sleeps: a ToxicContext
// whose clock is a ManualClock, whose timers fire when the test moves time,
// and which records everything the chain outputs, closes and reports.
//
//   StageHarness h;
//   h.add(R"({"type":"latency","attributes":{"latency":100}})");
//   h.send("hello");
//   h.advance(Millis(99));  // nothing yet
//   h.advance(Millis(1));   // "hello" is out
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "api/ToxicRequests.h"
#include "engine/BufferPool.h"
#include "engine/Clock.h"
#include "engine/TimerQueue.h"
#include "toxics/ToxicChain.h"

namespace faultline::testing {

class StageHarness final : public ToxicContext {
 public:
  explicit StageHarness(Direction direction = Direction::Downstream) : direction_(direction) {
    info.proxy = "harness";
    info.client = "127.0.0.1:50000";
    info.upstream = "127.0.0.1:6379";
  }
  ~StageHarness() { chain.apply({}); }

  // Adds a toxic decoded from its API body (the same path the API takes).
  ToxicConfigPtr add(std::string_view body) {
    auto config = std::make_shared<ToxicConfig>();
    config->id = next_id_++;
    config->toxicity_generation = config->id;
    config->spec = api::decode_toxic_create(std::string(body), [](const std::string&) { return false; });
    configs_.push_back(config);
    chain.apply(configs_);
    return config;
  }
  // Adds a toxic another harness has: two connections of one proxy.
  void add_existing(const ToxicConfigPtr& config) {
    configs_.push_back(config);
    chain.apply(configs_);
  }
  // Replaces a toxic's snapshot (an update through the API).
  void replace(const ToxicConfigPtr& old_config, ToxicSpec spec, bool toxicity_changed = false) {
    auto config = std::make_shared<ToxicConfig>(*old_config);
    config->spec = std::move(spec);
    if (toxicity_changed) config->toxicity_generation = next_id_++;
    for (auto& c : configs_)
      if (c->id == old_config->id) c = config;
    chain.apply(configs_);
  }
  void remove_all() {
    configs_.clear();
    chain.apply(configs_);
  }

  void send(std::string_view bytes) { chain.push(new_chunk(bytes)); }
  void end() { chain.push_eof(); }
  // Moves the clock forward in steps of at most 1 ms, firing what falls due.
  void advance(Nanos by) {
    const TimePoint until = clock.now() + by;
    while (clock.now() < until) {
      clock.advance(std::min<Nanos>(Millis(1), until - clock.now()));
      timer_queue.run_due(clock.now());
    }
  }
  // Simulates the destination writing everything queued.
  void drain_output() {
    backlog = 0;
    chain.output_drained();
  }

  // ToxicContext
  TimePoint now() const override { return clock.now(); }
  TimerQueue& timers() override { return timer_queue; }
  const ConnectionInfo& connection() const override { return info; }
  Direction direction() const override { return direction_; }
  SharedToxicState& shared_state() override { return shared_with ? *shared_with : shared; }
  void chain_output(Chunk chunk) override {
    output.append(chunk.data(), chunk.length);
    pieces.push_back(chunk.length);
    ++backlog;
  }
  void chain_output_eof() override { eof = true; }
  void chain_released() override { ++releases; }
  size_t output_backlog() const override { return backlog; }
  void reply(Chunk chunk) override { replies.append(chunk.data(), chunk.length); }
  void end_reply() override { reply_ended = true; }
  void close_connection(bool with_reset) override {
    closed = true;
    reset = reset || with_reset;
  }
  void close_after_output_written() override { closed_after_output = true; }
  void reset_after_output_written() override {
    closed_after_output = true;
    reset = true;
  }
  void make_writable(Chunk& chunk) override { make_own(chunk, buffers); }
  Chunk new_chunk(std::string_view bytes) override { return chunk_of(buffers, bytes, now()); }
  // Varies with the toxicity generation on purpose: the chain must keep a
  // connection's first draw even when a fresh seed would draw differently.
  uint64_t random_seed(const ToxicConfig& toxic) override {
    return splitmix64(seed ^ toxic.id ^ (toxic.toxicity_generation * 0x9E3779B97F4A7C15ULL));
  }
  void chaos_event(ChaosEventKind kind, const ToxicConfig&, std::string_view detail) override {
    events.push_back(kind);
    event_details.emplace_back(detail);
  }
  void http_fault(const ToxicConfig& toxic, const HttpFault& fault, std::string_view detail) override {
    chaos_event(ChaosEventKind::HttpRequestFaulted, toxic, detail);
    http_faults.push_back(std::string(fault.fault) + " " + std::string(fault.status));
  }
  void http_exchange(int status, Nanos duration) override { exchanges.emplace_back(status, duration); }

  ManualClock clock;
  TimerQueue timer_queue;
  BufferPool buffers;
  ConnectionInfo info;
  SharedToxicState shared;
  // The other direction's harness's state: the two halves of one connection (HTTP toxics).
  SharedToxicState* shared_with = nullptr;
  uint64_t seed = 42;

  std::string output;
  std::vector<size_t> pieces;  // the length of each output chunk
  size_t backlog = 0;          // chunks output since the last drain_output()
  bool eof = false;
  int releases = 0;
  std::string replies;
  bool reply_ended = false;
  bool closed = false;
  bool reset = false;
  bool closed_after_output = false;
  std::vector<ChaosEventKind> events;
  std::vector<std::string> event_details;
  std::vector<std::pair<int, Nanos>> exchanges;
  std::vector<std::string> http_faults;  // "error 503", "delay upstream"  // HTTP requests answered: status, duration

  ToxicChain chain{*this};  // last: destroyed first, while the clock and timers still exist

 private:
  Direction direction_;
  uint64_t next_id_ = 1;
  ToxicChainConfig configs_;
};

}  // namespace faultline::testing
