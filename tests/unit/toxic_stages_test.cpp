// Every toxic stage in-process: a StageHarness feeds it chunks, moves a
// manual clock and records what comes out. No sockets, no sleeps: these
// timings are exact.
#include <gtest/gtest.h>

#include <set>

#include "StageHarness.h"

namespace faultline {
namespace {

using testing::StageHarness;
using namespace std::chrono_literals;

TEST(LatencyStage, ReleasesEachChunkExactlyLatencyAfterItArrived) {
  StageHarness h;
  h.add(R"({"type":"latency","attributes":{"latency":100}})");
  h.send("one");
  h.advance(40ms);
  h.send("two");
  h.advance(59ms);
  EXPECT_EQ(h.output, "") << "99 ms after the first chunk";
  h.advance(1ms);
  EXPECT_EQ(h.output, "one");
  h.advance(39ms);
  EXPECT_EQ(h.output, "one");
  h.advance(1ms);
  EXPECT_EQ(h.output, "onetwo") << "pipelined: each chunk timed from its own arrival";
}

TEST(LatencyStage, JitterStaysInItsRangeAndNeverReorders) {
  StageHarness h;
  h.add(R"({"type":"latency","attributes":{"latency":50,"jitter":20}})");
  std::string sent;
  for (int i = 0; i < 50; ++i) {
    const std::string piece(1, static_cast<char>('A' + i % 26));
    sent += piece;
    h.send(piece);
    h.advance(1ms);
  }
  EXPECT_LT(h.output.size(), 20u) << "nothing may leave before latency - jitter = 30 ms";
  h.advance(68ms);  // the last chunk arrived 1 ms ago; it leaves by 70 ms
  EXPECT_EQ(h.output, sent);
}

TEST(LatencyStage, RemovalReleasesEverythingHeldAndTheEndOfStream) {
  StageHarness h;
  h.add(R"({"type":"latency","attributes":{"latency":10000}})");
  h.send("held");
  h.end();
  EXPECT_FALSE(h.eof);
  h.remove_all();
  EXPECT_EQ(h.output, "held");
  EXPECT_TRUE(h.eof);
  EXPECT_TRUE(h.timer_queue.empty());
}

TEST(BandwidthStage, PacesToTheRate) {
  StageHarness h;
  h.add(R"({"type":"bandwidth","attributes":{"rate":1}})");  // 1 KB/s = 1 byte per ms
  h.send(std::string(200, 'x'));
  EXPECT_EQ(h.output.size(), 100u) << "a first piece of 100 ms worth goes at once";
  h.advance(99ms);
  EXPECT_EQ(h.output.size(), 100u);
  h.advance(1ms);
  EXPECT_EQ(h.output.size(), 200u);
}

TEST(BandwidthStage, RateZeroHoldsUntilTheToxicGoes) {
  StageHarness h;
  h.add(R"({"type":"bandwidth","attributes":{"rate":0}})");
  h.send("stuck");
  h.end();
  h.advance(5s);
  EXPECT_EQ(h.output, "");
  h.remove_all();
  EXPECT_EQ(h.output, "stuck");
  EXPECT_TRUE(h.eof);
}

// Two connections of one proxy, on clocks that move together (as two
// event loops' steady clocks do).
void advance_both(StageHarness& a, StageHarness& b, std::chrono::milliseconds by) {
  for (auto i = 0ms; i < by; i += 1ms) {
    a.advance(1ms);
    b.advance(1ms);
  }
}

TEST(BandwidthStage, ProxyScopeSharesTheRateEvenlyBetweenConnections) {
  StageHarness a, b;
  const auto toxic = a.add(R"({"type":"bandwidth","attributes":{"rate":10,"scope":"proxy"}})");  // 10 bytes per ms
  b.add_existing(toxic);
  a.send(std::string(100'000, 'a'));
  b.send(std::string(100'000, 'b'));
  advance_both(a, b, 1000ms);
  // 10 KB/s for the proxy: 10,000 bytes in a second, half each, give or take one 100-byte turn.
  EXPECT_NEAR(static_cast<double>(a.output.size() + b.output.size()), 10'000, 200);
  EXPECT_NEAR(static_cast<double>(a.output.size()), static_cast<double>(b.output.size()), 200);
  // Alone again, a connection gets the whole rate.
  b.remove_all();
  const size_t before = a.output.size();
  advance_both(a, b, 1000ms);
  EXPECT_NEAR(static_cast<double>(a.output.size() - before), 10'000, 200);
}

TEST(BandwidthStage, ConnectionScopeGivesEachConnectionTheWholeRate) {
  StageHarness a, b;
  const auto toxic = a.add(R"({"type":"bandwidth","attributes":{"rate":10}})");
  b.add_existing(toxic);
  a.send(std::string(100'000, 'a'));
  b.send(std::string(100'000, 'b'));
  advance_both(a, b, 1000ms);
  EXPECT_NEAR(static_cast<double>(a.output.size()), 11'000, 200) << "10,000 plus the first 100 ms piece";
  EXPECT_NEAR(static_cast<double>(b.output.size()), 11'000, 200);
}

TEST(BandwidthStage, BurstLetsThatMuchGoAtOnceAfterAnIdleSpell) {
  for (const char* scope : {"connection", "proxy"}) {
    SCOPED_TRACE(scope);
    StageHarness h;
    h.add(std::string(R"({"type":"bandwidth","attributes":{"rate":1,"burst":2,"scope":")") + scope + R"("}})");
    h.advance(10s);  // idle: the bucket fills to 2 KB, no more
    h.send(std::string(5000, 'x'));
    EXPECT_GE(h.output.size(), 2000u) << "the burst goes at once";
    EXPECT_LE(h.output.size(), 2100u) << "and not more than the burst and one piece";
    const size_t after_burst = h.output.size();
    h.advance(1000ms);
    EXPECT_NEAR(static_cast<double>(h.output.size() - after_burst), 1000, 110) << "then the rate";
  }
}

TEST(BandwidthStage, AClosedConnectionGivesBackItsTurn) {
  StageHarness a;
  const auto toxic = a.add(R"({"type":"bandwidth","attributes":{"rate":1,"scope":"proxy"}})");  // 1 byte per ms, 10-byte turns
  {
    StageHarness b;
    b.add_existing(toxic);
    b.send(std::string(100, 'b'));  // its first turn goes at once, its second is booked for 10 ms from now
    EXPECT_EQ(b.output.size(), 10u);
  }  // b closes before its second turn
  a.send(std::string(100, 'a'));
  EXPECT_EQ(a.output.size(), 0u) << "b's first turn still counts";
  a.advance(10ms);
  EXPECT_EQ(a.output.size(), 10u) << "a took the turn b gave back, not the one after it";
  a.advance(90ms);
  EXPECT_EQ(a.output.size(), 100u);
}

TEST(SlowCloseStage, DataPassesAtOnceAndTheEndWaitsForTheDelay) {
  StageHarness h;
  h.add(R"({"type":"slow_close","attributes":{"delay":300}})");
  h.send("data");
  EXPECT_EQ(h.output, "data");
  h.end();
  h.advance(299ms);
  EXPECT_FALSE(h.eof);
  h.advance(1ms);
  EXPECT_TRUE(h.eof);
}

TEST(TimeoutStage, SwallowsThenClosesAfterTheTimeout) {
  StageHarness h;
  h.add(R"({"type":"timeout","attributes":{"timeout":250}})");
  h.send("lost");
  h.advance(249ms);
  EXPECT_EQ(h.output, "");
  EXPECT_FALSE(h.closed);
  h.advance(1ms);
  EXPECT_TRUE(h.closed);
  EXPECT_FALSE(h.reset);
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back(), ChaosEventKind::TimeoutFired);
}

TEST(TimeoutStage, ZeroSwallowsForeverAndRemovalCloses) {
  StageHarness h;
  h.add(R"({"type":"timeout","attributes":{"timeout":0}})");
  h.send("lost");
  h.advance(10s);
  EXPECT_FALSE(h.closed);
  h.remove_all();
  EXPECT_TRUE(h.closed) << "the swallowed bytes are gone: the stream cannot go on";
}

TEST(ResetPeerStage, ResetsAfterTheTimeout) {
  StageHarness h;
  h.add(R"({"type":"reset_peer","attributes":{"timeout":100}})");
  h.advance(99ms);
  EXPECT_FALSE(h.closed);
  h.advance(1ms);
  EXPECT_TRUE(h.closed);
  EXPECT_TRUE(h.reset);
  EXPECT_EQ(h.events.back(), ChaosEventKind::ResetSent);
}

TEST(ResetPeerStage, RemovalAfterSwallowingResets) {
  StageHarness h;
  h.add(R"({"type":"reset_peer","attributes":{"timeout":100000}})");
  h.send("hole");
  h.remove_all();
  EXPECT_TRUE(h.reset);
  EXPECT_EQ(h.events.back(), ChaosEventKind::ResetOnRemoval);
}

TEST(SlicerStage, CutsIntoPiecesOfAverageSizeAndVariation) {
  StageHarness h;
  h.add(R"({"type":"slicer","attributes":{"average_size":10,"size_variation":3,"delay":0}})");
  const std::string data(1000, 'z');
  h.send(data);
  for (int i = 0; i < 100 && h.output.size() < data.size(); ++i) {
    h.drain_output();
    h.advance(1ms);
  }
  EXPECT_EQ(h.output, data);
  for (size_t n : std::vector<size_t>(h.pieces.begin(), h.pieces.end() - 1)) {
    EXPECT_GE(n, 7u);
    EXPECT_LE(n, 13u);
  }
}

TEST(SlicerStage, DelaySpacesThePieces) {
  StageHarness h;
  h.add(R"({"type":"slicer","attributes":{"average_size":5,"delay":1000}})");  // 1 ms apart
  h.send(std::string(50, 'q'));
  EXPECT_EQ(h.output.size(), 5u);
  h.advance(4ms);
  EXPECT_EQ(h.output.size(), 25u);
  h.advance(5ms);
  EXPECT_EQ(h.output.size(), 50u);
}

TEST(SlicerStage, WaitsWhileManyPiecesAreUnwritten) {
  StageHarness h;
  h.add(R"({"type":"slicer","attributes":{"average_size":1}})");
  h.send(std::string(1000, 'w'));
  h.advance(10ms);
  EXPECT_LE(h.pieces.size(), 64u) << "a blocked destination stops the cutting";
  h.drain_output();
  EXPECT_GT(h.pieces.size(), 64u) << "an emptied queue resumes it";
}

TEST(LimitDataStage, LetsExactlyTheLimitThroughThenCloses) {
  StageHarness h;
  h.add(R"({"type":"limit_data","attributes":{"bytes":7}})");
  h.send("abcd");
  EXPECT_FALSE(h.closed_after_output);
  h.send("efghij");
  EXPECT_EQ(h.output, "abcdefg");
  EXPECT_TRUE(h.closed_after_output);
  EXPECT_EQ(h.events.back(), ChaosEventKind::DataLimitReached);
}

TEST(NoopStage, PassesEverything) {
  StageHarness h;
  h.add(R"({"type":"noop"})");
  h.send("as is");
  h.end();
  EXPECT_EQ(h.output, "as is");
  EXPECT_TRUE(h.eof);
  EXPECT_EQ(h.events, std::vector<ChaosEventKind>{ChaosEventKind::ToxicApplied});
}

TEST(ToxicChain, TwoLatenciesAddUp) {
  StageHarness h;
  h.add(R"({"name":"a","type":"latency","attributes":{"latency":30}})");
  h.add(R"({"name":"b","type":"latency","attributes":{"latency":20}})");
  h.send("x");
  h.advance(49ms);
  EXPECT_EQ(h.output, "");
  h.advance(1ms);
  EXPECT_EQ(h.output, "x");
}

TEST(ToxicChain, OnlyDropRefusesOrDelaysAccepts) {
  for (const auto& type : all_toxic_types()) {
    StageHarness h;
    h.add(R"({"type":")" + type.name + R"("})");
    EXPECT_EQ(h.chain.before_connect().action, type.name == "drop" ? AcceptVerdict::Action::Refuse : AcceptVerdict::Action::Proceed)
        << type.name;
  }
  // The strongest verdict of a connection's toxics wins.
  StageHarness h;
  h.add(R"({"name":"slow","type":"drop","attributes":{"mode":"delayed","delay":50}})");
  h.add(R"({"name":"hole","type":"drop","attributes":{"mode":"blackholed"}})");
  const AcceptVerdict v = h.chain.before_connect();
  EXPECT_EQ(v.action, AcceptVerdict::Action::Blackhole);
  EXPECT_EQ(v.delay, Nanos::max()) << "timeout 0: never closed";
}

// The documented rule: a connection's draw for a toxic never changes, so a
// rising toxicity only ever adds connections.
TEST(Toxicity, ARampIsMonotone) {
  int at_30 = 0, at_40 = 0;
  for (uint64_t connection = 0; connection < 400; ++connection) {
    StageHarness h;
    h.seed = connection * 7919;
    auto config = h.add(R"({"type":"noop","toxicity":0.3})");
    const bool toxic_at_30 = h.chain.has_active_stage();
    ToxicSpec spec = config->spec;
    spec.toxicity = 0.4f;
    h.replace(config, spec, true);
    const bool toxic_at_40 = h.chain.has_active_stage();
    EXPECT_TRUE(!toxic_at_30 || toxic_at_40) << "connection " << connection << " was toxic at 30 % but not at 40 %";
    at_30 += toxic_at_30;
    at_40 += toxic_at_40;
  }
  // Fair draws: about 120 and 160 of 400 (wide bounds: this checks the rule, not the generator).
  EXPECT_GT(at_30, 70);
  EXPECT_LT(at_30, 170);
  EXPECT_GT(at_40, at_30);
}

TEST(ToxicContext, SharedStateIsOneSlotPerToxic) {
  SharedToxicState state;
  state.get<int>(1) = 5;
  EXPECT_EQ(state.get<int>(1), 5);
  EXPECT_EQ(state.get<int>(2), 0);
  state.forget(1);
  EXPECT_EQ(state.get<int>(1), 0);
}

TEST(ToxicContext, MakeWritableCopiesASharedBuffer) {
  StageHarness h;
  Chunk whole = h.new_chunk("abcdef");
  Chunk front = whole.split_front(3);
  h.make_writable(front);
  const_cast<char*>(front.data())[0] = 'X';
  EXPECT_EQ(std::string(front.data(), front.length), "Xbc");
  EXPECT_EQ(std::string(whole.data(), whole.length), "def");
  EXPECT_FALSE(front.buffer.shared());
}

}  // namespace
}  // namespace faultline
