// The control plane in-process: a real Engine (two event loops) and a
// Registry. Batches are all-or-nothing, errors are domain errors, nothing
// waits on a loop while holding the registry's lock, and a control call made
// from a loop's own thread does not deadlock.
#include <gtest/gtest.h>

#include <future>
#include <latch>

#include "api/Api.h"
#include "api/ToxicRequests.h"
#include "control/Registry.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;

ToxicSpec toxic(const std::string& body) {
  return api::decode_toxic_create(body, [](const std::string&) { return false; });
}

struct ControlPlane : ::testing::Test {
  Engine engine{EngineSettings{2, std::chrono::seconds(1), 7}};
  Registry registry{engine};

  void SetUp() override { registry.create_proxy(ProxySpec{"p", "127.0.0.1:0", "127.0.0.1:9", true}); }
  std::vector<std::string> toxic_names() {
    std::vector<std::string> names;
    for (const auto& t : registry.list_toxics("p")) names.push_back(t.name);
    return names;
  }
};

TEST_F(ControlPlane, ABatchAppliesEveryChangeInOneStep) {
  registry.add_toxic("p", toxic(R"({"name":"old","type":"noop"})"));
  ToxicBatch batch;
  batch.remove = {"old"};
  batch.add = {toxic(R"({"name":"a","type":"latency","attributes":{"latency":5}})"),
               toxic(R"({"name":"b","type":"bandwidth","stream":"upstream","attributes":{"rate":9}})")};
  batch.enabled = false;
  const ProxyView after = registry.apply("p", batch);
  EXPECT_FALSE(after.spec.enabled);
  EXPECT_EQ(toxic_names(), (std::vector<std::string>{"b", "a"})) << "upstream chain, then downstream";

  ToxicBatch again;
  again.update.push_back({"a", ToxicPatch{std::vector<AttributeValue>{int64_t{50}, int64_t{1}, std::string("uniform"), 0.0}, 0.5f}});
  again.enabled = true;
  EXPECT_TRUE(registry.apply("p", again).spec.enabled);
  EXPECT_EQ(registry.get_toxic("p", "a").integer("latency"), 50);
  EXPECT_FLOAT_EQ(registry.get_toxic("p", "a").toxicity, 0.5f);
}

TEST_F(ControlPlane, AFailingBatchChangesNothing) {
  registry.add_toxic("p", toxic(R"({"name":"keep","type":"noop"})"));
  ToxicBatch batch;
  batch.remove = {"keep"};
  batch.add = {toxic(R"({"name":"x","type":"noop"})")};
  batch.update.push_back({"missing", ToxicPatch{}});
  batch.enabled = false;
  try {
    registry.apply("p", batch);
    FAIL() << "the batch names a toxic that does not exist";
  } catch (const ControlError& e) {
    EXPECT_EQ(e.kind(), ControlErrorKind::NotFound);
  }
  EXPECT_EQ(toxic_names(), std::vector<std::string>{"keep"});
  EXPECT_TRUE(registry.get_proxy("p").spec.enabled);

  ToxicBatch duplicate;
  duplicate.add = {toxic(R"({"name":"y","type":"noop"})"), toxic(R"({"name":"y","type":"latency"})")};
  try {
    registry.apply("p", duplicate);
    FAIL();
  } catch (const ControlError& e) {
    EXPECT_EQ(e.kind(), ControlErrorKind::AlreadyExists);
  }
  EXPECT_EQ(toxic_names(), std::vector<std::string>{"keep"});
}

TEST_F(ControlPlane, ABatchBoundToAProxyNeverLandsOnANewProxyOfTheSameName) {
  const uint64_t first = registry.get_proxy("p").instance;
  registry.delete_proxy("p");
  registry.create_proxy(ProxySpec{"p", "127.0.0.1:0", "127.0.0.1:9", true});
  EXPECT_NE(registry.get_proxy("p").instance, first);
  ToxicBatch late;  // a schedule's step, computed for the proxy that is gone
  late.add = {toxic(R"({"type":"noop"})")};
  late.instance = first;
  EXPECT_THROW(registry.apply("p", late), ControlError);
  EXPECT_TRUE(toxic_names().empty());
}

TEST_F(ControlPlane, RefusalsAreDomainErrorsThatTheApiMapsToStatusCodes) {
  auto kind_of = [](auto&& fn) {
    try {
      fn();
    } catch (const ControlError& e) {
      return e.kind();
    }
    return ControlErrorKind::Invalid;  // not thrown: fails the comparison below
  };
  EXPECT_EQ(kind_of([&] { registry.get_proxy("nope"); }), ControlErrorKind::NotFound);
  EXPECT_EQ(kind_of([&] { registry.create_proxy(ProxySpec{"p", "127.0.0.1:0", "127.0.0.1:9", true}); }),
            ControlErrorKind::AlreadyExists);
  const std::string taken = registry.get_proxy("p").spec.listen;
  EXPECT_EQ(kind_of([&] { registry.create_proxy(ProxySpec{"q", taken, "127.0.0.1:9", true}); }),
            ControlErrorKind::SystemFailure);
  EXPECT_EQ(kind_of([&] { registry.remove_toxic("p", "nope"); }), ControlErrorKind::NotFound);
  EXPECT_EQ(api::status_for(ControlErrorKind::NotFound), 404);
  EXPECT_EQ(api::status_for(ControlErrorKind::AlreadyExists), 409);
  EXPECT_EQ(api::status_for(ControlErrorKind::Invalid), 400);
  EXPECT_EQ(api::status_for(ControlErrorKind::Unavailable), 503);
  EXPECT_EQ(api::status_for(ControlErrorKind::SystemFailure), 500);
}

TEST_F(ControlPlane, NoLockIsHeldWhileAChangeWaitsForTheLoops) {
  // Worker 0 is kept busy: a change cannot complete until it is let go.
  std::latch release(1);
  engine.run_on_worker(0, [&] { release.wait(); });
  auto change = std::async(std::launch::async, [&] { registry.add_toxic("p", toxic(R"({"type":"noop"})")); });
  EXPECT_EQ(change.wait_for(200ms), std::future_status::timeout) << "the change waits for every loop";
  // Meanwhile readers and other writers are not blocked by the waiting change.
  auto read = std::async(std::launch::async, [&] { return registry.list_proxies().size(); });
  ASSERT_EQ(read.wait_for(5s), std::future_status::ready) << "a reader waited on a loop";
  EXPECT_EQ(read.get(), 1u);
  EXPECT_EQ(toxic_names(), std::vector<std::string>{"noop_downstream"}) << "the change is recorded already";
  release.count_down();
  ASSERT_EQ(change.wait_for(5s), std::future_status::ready);
  change.get();
}

TEST_F(ControlPlane, AControlCallFromALoopThreadDoesNotDeadlock) {
  std::promise<std::string> done;
  engine.run_on_worker(1, [&] {
    try {
      registry.add_toxic("p", toxic(R"({"name":"from_loop","type":"latency"})"));
      registry.update_proxy("p", ProxyPatch{std::nullopt, std::string("127.0.0.1:10"), std::nullopt});
      done.set_value("ok");
    } catch (const std::exception& e) {
      done.set_value(e.what());
    }
  });
  auto result = done.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready) << "deadlocked";
  EXPECT_EQ(result.get(), "ok");
  // The loop goes on serving changes afterwards.
  registry.remove_toxic("p", "from_loop");
  EXPECT_TRUE(toxic_names().empty());
}

TEST_F(ControlPlane, AnExceptionInPostedWorkNeverEscapesALoop) {
  engine.run_on_worker(0, [] { throw std::runtime_error("boom"); });
  engine.run_on_worker(1, [] { throw 42; });
  auto change = std::async(std::launch::async, [&] { registry.add_toxic("p", toxic(R"({"type":"noop"})")); });
  ASSERT_EQ(change.wait_for(5s), std::future_status::ready) << "a loop died";
  change.get();
}

TEST(ApiRouter, EveryRouteHasOnePatternAndItsMethods) {
  EXPECT_EQ(api::route_pattern(api::split_path("/proxies")), "/proxies");
  EXPECT_EQ(api::route_pattern(api::split_path("/proxies/a%2Fb/toxics")), "");
  EXPECT_EQ(api::route_pattern(api::split_path("/proxies/redis/toxics/lat")), "/proxies/{proxy}/toxics/{toxic}");
  EXPECT_EQ(api::route_pattern(api::split_path("/proxies/")), "");
  EXPECT_EQ(api::route_pattern(api::split_path("/faultline/stats/stream?interval_ms=100")), "/faultline/stats/stream");
  EXPECT_EQ(api::query_parameter("/x?a=1&b&c=3", "b"), "");
  EXPECT_EQ(api::query_parameter("/x?a=1&b&c=3", "c"), "3");
  EXPECT_FALSE(api::query_parameter("/x?a=1", "z").has_value());

  Engine engine{EngineSettings{1, std::chrono::seconds(1), 1}};
  Registry registry{engine};
  api::Api router(registry, api::ApiOptions{"test", false, {}, {}});
  auto call = [&](const std::string& method, const std::string& target) {
    return router.handle(api::Request{method, target, "test", ""});
  };
  EXPECT_EQ(call("GET", "/proxies").status, 200);
  EXPECT_EQ(call("DELETE", "/version").status, 405);
  EXPECT_EQ(call("GET", "/nope").status, 404);
  EXPECT_EQ(call("GET", "/metrics").status, 404) << "metrics are off";
  EXPECT_EQ(call("GET", "/proxies/none").status, 404);
  EXPECT_EQ(call("GET", "/faultline/stats/stream?interval_ms=10").status, 400);

  const api::Response stream = call("GET", "/faultline/stats/stream?interval_ms=100");
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.content_type, "text/event-stream");
  ASSERT_TRUE(stream.stream);
  EXPECT_EQ(stream.stream->interval, std::chrono::milliseconds(100));
  EXPECT_EQ(stream.stream->next(), "event: stats\ndata: {}\n\n");
}

}  // namespace
}  // namespace faultline
