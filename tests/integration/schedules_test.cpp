// Schedules and timed toxics over real sockets against the real server:
// flaps seen by a connecting client, windows and timed toxics seen through
// the API, every way a schedule ends undoing what it did and nothing a user
// did, errors naming the field. Periods are hundreds of milliseconds and
// every check sits in the middle of a phase, so a loaded machine passes;
// accuracy is measured by the benchmark, not here.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <thread>

#include "Upstreams.h"
#include "api_test_helpers.h"

namespace faultline::test {
namespace {

using namespace api;
using namespace std::chrono_literals;

std::vector<std::string> toxic_names(const ServerProcess& server, const std::string& proxy) {
  std::vector<std::string> names;
  for (const auto& t : parse_json(server.api().get("/proxies/" + proxy + "/toxics").body)) names.push_back(t["name"]);
  return names;
}

bool has_toxic(const ServerProcess& server, const std::string& proxy, const std::string& name) {
  const auto names = toxic_names(server, proxy);
  return std::find(names.begin(), names.end(), name) != names.end();
}

Json schedule(const ServerProcess& server, const std::string& name) {
  return parse_json(server.api().get("/faultline/schedules/" + name).body);
}

// Polls until `done` holds or `limit` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(TimedToxics, RemoveThemselvesAndShowTheirTimeLeft) {
  TestUpstream echo;
  ServerProcess server;
  server.create_proxy("p", echo.port());
  const auto created = server.api().post("/proxies/p/toxics", R"({"name":"lag","type":"latency","attributes":{"latency":300},"duration_ms":600})");
  ASSERT_EQ(created.status, 200) << created.body;
  const Json t = parse_json(created.body);
  EXPECT_EQ(t["duration_ms"], 600);
  EXPECT_GT(t["expires_in_ms"].get<int>(), 300);
  EXPECT_LE(t["expires_in_ms"].get<int>(), 600);
  EXPECT_EQ(keys_of(t).back(), "expires_in_ms") << "new keys come after Toxiproxy's";
  EXPECT_TRUE(eventually([&] { return !has_toxic(server, "p", "lag"); }, 3000ms)) << "it never went away";
  EXPECT_EQ(server.api().get("/proxies/p/toxics/lag").status, 404);
}

TEST(TimedToxics, AnUpdateWithANewDurationRestartsTheClock) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  server.api().post("/proxies/p/toxics", R"({"name":"t","type":"noop","duration_ms":400})");
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(server.api().patch("/proxies/p/toxics/t", R"({"duration_ms":"2s"})").status, 200);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(has_toxic(server, "p", "t")) << "the first expiry no longer counts";
  const Json t = parse_json(server.api().get("/proxies/p/toxics/t").body);
  EXPECT_EQ(t["duration_ms"], 2000);
}

TEST(TimedToxics, ABadDurationIsRefusedNamingIt) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  const auto r = server.api().post("/proxies/p/toxics", R"({"type":"noop","duration_ms":0})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("duration_ms"), std::string::npos) << r.body;
  EXPECT_TRUE(toxic_names(server, "p").empty());
}

TEST(Schedules, ARefuseFlapIsSeenByAConnectingClient) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("db", echo.port());
  const auto r = server.api().post("/faultline/schedules",
                                   R"({"proxy":"db","kind":"flap","mode":"refuse","up_ms":400,"down_ms":400,"iterations":2})");
  ASSERT_EQ(r.status, 201) << r.body;
  const Json s = parse_json(r.body);
  EXPECT_EQ(s["name"], "db_flap");
  EXPECT_EQ(s["state"], "running");
  EXPECT_EQ(s["phase"], "up");
  // Mid-up (200 ms), mid-down (600 ms), mid-up (1000 ms), mid-down (1400 ms), after (2000 ms).
  const auto start = std::chrono::steady_clock::now();
  auto at = [&](int ms) { std::this_thread::sleep_until(start + std::chrono::milliseconds(ms)); };
  at(200);
  EXPECT_TRUE(port_accepts(port)) << "up";
  at(600);
  EXPECT_FALSE(port_accepts(port)) << "down: refused";
  EXPECT_EQ(schedule(server, "db_flap")["phase"], "down");
  at(1000);
  EXPECT_TRUE(port_accepts(port)) << "up again";
  EXPECT_EQ(schedule(server, "db_flap")["iteration"], 1);
  at(1400);
  EXPECT_FALSE(port_accepts(port));
  at(2000);
  EXPECT_TRUE(port_accepts(port)) << "finished healthy";
  const Json done = schedule(server, "db_flap");
  EXPECT_EQ(done["state"], "finished");
  EXPECT_EQ(done["transitions"], 4);
  EXPECT_TRUE(done["next_at"].is_null());
}

TEST(Schedules, ATimeoutFlapAddsItsToxicsOnlyWhileDown) {
  TestUpstream echo;
  ServerProcess server;
  server.create_proxy("db", echo.port());
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"f","proxy":"db","kind":"flap","mode":"timeout",
            "up_ms":"300ms","down_ms":"300ms","timeout_ms":"20s","stream":"up"})").status, 201);
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(toxic_names(server, "db").empty());
  std::this_thread::sleep_for(300ms);  // 450 ms: down
  ASSERT_TRUE(has_toxic(server, "db", "f_upstream"));
  const Json t = parse_json(server.api().get("/proxies/db/toxics/f_upstream").body);
  EXPECT_EQ(t["type"], "timeout");
  EXPECT_EQ(t["stream"], "upstream");
  EXPECT_EQ(t["attributes"]["timeout"], 20000);
  std::this_thread::sleep_for(300ms);  // 750 ms: up
  EXPECT_TRUE(toxic_names(server, "db").empty());
}

TEST(Schedules, AToxicModeFlapAddsTheGivenToxicWhileDownAndWindowsMayOverlap) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"f","proxy":"p","kind":"flap","mode":"toxic","up_ms":1,"down_ms":"1h",
            "toxic":{"type":"bandwidth","attributes":{"rate":7}}})").status, 201);
  ASSERT_TRUE(eventually([&] { return has_toxic(server, "p", "f"); }));
  EXPECT_EQ(parse_json(server.api().get("/proxies/p/toxics/f").body)["attributes"]["rate"], 7);
  for (const char* name : {"w1", "w2"})
    ASSERT_EQ(server.api().post("/faultline/schedules", std::string(R"({"name":")") + name +
              R"(","proxy":"p","kind":"window","duration_ms":"1h","toxic":{"type":"latency"}})").status, 201);
  EXPECT_TRUE(has_toxic(server, "p", "w1"));
  EXPECT_TRUE(has_toxic(server, "p", "w2"));
  EXPECT_EQ(server.api().del("/faultline/schedules/w1").status, 204);
  EXPECT_FALSE(has_toxic(server, "p", "w1"));
  EXPECT_TRUE(has_toxic(server, "p", "w2")) << "each window owns its toxic";
}

TEST(Schedules, AWindowSwitchesItsToxicOnLaterForAWhile) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"w","proxy":"p","kind":"window","start_ms":300,
            "duration_ms":400,"toxic":{"type":"latency","attributes":{"latency":50}}})").status, 201);
  EXPECT_EQ(schedule(server, "w")["state"], "pending");
  std::this_thread::sleep_for(150ms);
  EXPECT_FALSE(has_toxic(server, "p", "w"));
  std::this_thread::sleep_for(350ms);  // 500 ms
  EXPECT_TRUE(has_toxic(server, "p", "w"));
  EXPECT_EQ(schedule(server, "w")["phase"], "on");
  EXPECT_TRUE(eventually([&] { return schedule(server, "w")["state"] == "finished"; }));
  EXPECT_FALSE(has_toxic(server, "p", "w"));
}

TEST(Schedules, EveryWayOfEndingUndoesTheFaultButNotTheUsersChanges) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("p", echo.port());
  server.api().post("/proxies/p/toxics", R"({"name":"mine","type":"latency","attributes":{"latency":1}})");
  auto flap_down_now = [&](const std::string& name, const std::string& mode) {
    // down almost at once, for long: up_ms 1, down_ms 1 hour
    const auto r = server.api().post("/faultline/schedules", R"({"name":")" + name + R"(","proxy":"p","kind":"flap","mode":")" +
                                                                 mode + R"(","up_ms":1,"down_ms":3600000})");
    ASSERT_EQ(r.status, 201) << r.body;
    ASSERT_TRUE(eventually([&] { return schedule(server, name)["phase"] == "down"; }));
  };

  // 1. DELETE
  flap_down_now("a", "refuse");
  EXPECT_FALSE(port_accepts(port));
  EXPECT_EQ(server.api().del("/faultline/schedules/a").status, 204);
  EXPECT_TRUE(port_accepts(port)) << "the proxy it disabled is enabled again";
  EXPECT_EQ(server.api().get("/faultline/schedules/a").status, 404);

  // 2. The user removes the schedule's toxic while it is down: no error, and cancelling still works.
  flap_down_now("b", "reset");
  ASSERT_TRUE(has_toxic(server, "p", "b_upstream"));
  EXPECT_EQ(server.api().del("/proxies/p/toxics/b_upstream").status, 204);
  EXPECT_EQ(server.api().del("/faultline/schedules/b").status, 204);
  EXPECT_EQ(toxic_names(server, "p"), std::vector<std::string>{"mine"}) << "b_downstream removed, mine kept";

  // 3. POST /reset cancels every schedule (and removes every toxic, as always).
  flap_down_now("c", "timeout");
  EXPECT_EQ(server.api().post("/reset").status, 204);
  EXPECT_EQ(schedule(server, "c")["state"], "cancelled");
  EXPECT_TRUE(toxic_names(server, "p").empty());

  // 4. Deleting the proxy cancels its schedules.
  flap_down_now("d", "timeout");
  EXPECT_EQ(server.api().del("/proxies/p").status, 204);
  EXPECT_EQ(schedule(server, "d")["state"], "cancelled");
}

TEST(Schedules, APopulateThatReplacesTheProxyCancelsItsSchedules) {
  ServerProcess server;
  const int upstream = free_port();
  server.create_proxy("p", upstream);
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"s","proxy":"p","kind":"flap","up_ms":1,"down_ms":3600000})").status, 201);
  const auto r = server.api().post("/populate", R"([{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}])");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(schedule(server, "s")["state"], "cancelled");
  EXPECT_TRUE(toxic_names(server, "p").empty());
}

TEST(Schedules, ShutdownUndoesRunningSchedules) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"s","proxy":"p","kind":"flap","up_ms":1,"down_ms":3600000})").status, 201);
  ASSERT_TRUE(eventually([&] { return schedule(server, "s")["phase"] == "down"; }));
  EXPECT_EQ(server.stop(SIGTERM), 0);
  const std::string log = server.output();
  EXPECT_NE(log.find("schedule cancelled"), std::string::npos) << log;
  EXPECT_NE(log.find("toxic removed"), std::string::npos) << "its toxics were removed on the way out:\n" << log;
}

// The round trip of one byte through a proxy, in ms.
int rtt_ms(int port) {
  Socket s(connect_tcp(port));
  const auto start = std::chrono::steady_clock::now();
  s.send("x");
  if (recv_exact(s.fd(), 1, 3000ms).data != "x") return -1;
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
}

TEST(Schedules, ARampIsFeltOnTheDataPath) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("p", echo.port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"r","proxy":"p","kind":"ramp","attribute":"latency",
            "from":0,"to":450,"duration_ms":1200,"steps":3,"toxic":{"type":"latency"}})").status, 201);
  auto at = [&](int ms) { std::this_thread::sleep_until(start + std::chrono::milliseconds(ms)); };
  at(100);
  EXPECT_LT(rtt_ms(port), 100) << "0 ms at the start";
  at(450);
  int rtt = rtt_ms(port);
  EXPECT_GE(rtt, 145) << "150 ms after the first step";
  EXPECT_LT(rtt, 290);
  at(850);
  rtt = rtt_ms(port);
  EXPECT_GE(rtt, 295) << "300 ms after the second";
  EXPECT_LT(rtt, 440);
  at(1300);
  EXPECT_GE(rtt_ms(port), 445) << "450 ms at the end, and held";
  EXPECT_EQ(schedule(server, "r")["phase"], "holding");
  EXPECT_TRUE(has_toxic(server, "p", "r"));
}

TEST(Schedules, AGradualToxicityRampOnAUsersToxicPutsItsValueBack) {
  ServerProcess server;
  server.create_proxy("api", free_port());
  server.api().post("/proxies/api/toxics", R"({"name":"loss","type":"timeout","toxicity":0.05,"attributes":{"timeout":0}})");
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"g","proxy":"api","kind":"ramp","toxic":"loss","attribute":"toxicity",
            "from":0.1,"to":0.3,"duration_ms":600,"steps":2,"then":"remove"})").status, 201);
  auto toxicity = [&] { return parse_json(server.api().get("/proxies/api/toxics/loss").body)["toxicity"].get<double>(); };
  EXPECT_NEAR(toxicity(), 0.1, 1e-6);
  std::this_thread::sleep_for(450ms);
  EXPECT_NEAR(toxicity(), 0.2, 1e-6);
  EXPECT_TRUE(eventually([&] { return schedule(server, "g")["state"] == "finished"; }));
  EXPECT_NEAR(toxicity(), 0.05, 1e-6) << "then: remove puts the user's value back";
}

TEST(Schedules, AUserWhoChangesARampedAttributeTakesItOver) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  server.api().post("/proxies/p/toxics", R"({"name":"lag","type":"latency","attributes":{"latency":5}})");
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"r","proxy":"p","kind":"ramp","toxic":"lag","attribute":"latency",
            "from":100,"to":1000,"duration_ms":"2s","steps":4})").status, 201);
  ASSERT_EQ(server.api().post("/proxies/p/toxics/lag", R"({"attributes":{"latency":42}})").status, 200);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(parse_json(server.api().get("/proxies/p/toxics/lag").body)["attributes"]["latency"], 42) << "the ramp stopped touching it";
  EXPECT_EQ(server.api().del("/faultline/schedules/r").status, 204);
  EXPECT_EQ(parse_json(server.api().get("/proxies/p/toxics/lag").body)["attributes"]["latency"], 42) << "and its undo leaves it too";
}

std::string write_temp(const std::string& text, const char* suffix) {
  std::string path = "/tmp/faultline-schedules-XXXXXX";
  path += suffix;
  const int fd = ::mkstemps(path.data(), static_cast<int>(std::strlen(suffix)));
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

TEST(Schedules, AConfigFileStartsTheSchedulesItLists) {
  const std::string path = write_temp(R"(
- name: db
  listen: 127.0.0.1:0
  upstream: 127.0.0.1:9
  toxics:
    - {name: lag, type: latency, attributes: {latency: 10}}
  schedules:
    - {name: flapping, kind: flap, mode: refuse, up_ms: 10s, down_ms: 5s}
    - {name: slower, kind: ramp, toxic: lag, attribute: latency, from: 10, to: 100, duration_ms: 1m}
)", ".yaml");
  ServerProcess server(ServerOptions{{"-config", path}});
  ::unlink(path.c_str());
  EXPECT_EQ(schedule(server, "flapping")["state"], "running");
  EXPECT_EQ(schedule(server, "flapping")["proxy"], "db");
  EXPECT_EQ(schedule(server, "slower")["toxic"], "lag");
}

TEST(Schedules, ABadScheduleInAConfigFileStopsTheStartNamingIt) {
  const std::string path = write_temp(R"([{"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:9",
      "schedules":[{"kind":"flap","up_ms":-1}]}])", ".json");
  ServerProcess server(ServerOptions{{"-config", path}, {}, false});
  EXPECT_NE(server.wait_exit(), 0);
  ::unlink(path.c_str());
  const std::string out = server.output();
  EXPECT_NE(out.find("proxy #1 (\"db\"), schedule #1"), std::string::npos) << out;
  EXPECT_NE(out.find("up_ms"), std::string::npos) << out;
}

TEST(Schedules, ATimelineWithRepeatActsAtEachStep) {
  TestUpstream echo;
  ServerProcess server;
  const int port = server.create_proxy("p", echo.port());
  Socket old_client(connect_tcp(port));
  old_client.send("a");
  ASSERT_EQ(recv_exact(old_client.fd(), 1).data, "a");
  const auto start = std::chrono::steady_clock::now();
  const auto r = server.api().post("/faultline/schedules", R"({"name":"t","proxy":"p","kind":"timeline","repeat":2,"period_ms":800,
      "steps":[{"at_ms":0,"action":"add","toxic":{"name":"lag","type":"latency","attributes":{"latency":5}}},
               {"at_ms":200,"action":"update","toxic":"lag","attributes":{"latency":77}},
               {"at_ms":300,"action":"cut"},
               {"at_ms":400,"action":"disable"},
               {"at_ms":600,"action":"enable"}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto at = [&](int ms) { std::this_thread::sleep_until(start + std::chrono::milliseconds(ms)); };
  auto latency = [&] { return parse_json(server.api().get("/proxies/p/toxics/lag").body)["attributes"]["latency"].get<int>(); };
  at(100);
  EXPECT_EQ(latency(), 5);
  at(250);
  EXPECT_EQ(latency(), 77);
  at(350);
  EXPECT_NE(wait_for_end(old_client.fd(), 1000ms), ReadEnd::Timeout) << "cut closed the open connection";
  at(500);
  EXPECT_FALSE(port_accepts(port)) << "disabled";
  at(700);
  EXPECT_TRUE(port_accepts(port)) << "enabled";
  at(900);
  EXPECT_EQ(latency(), 5) << "second pass: added again";
  EXPECT_EQ(schedule(server, "t")["iteration"], 1);
  EXPECT_TRUE(eventually([&] { return schedule(server, "t")["state"] == "finished"; }));
  EXPECT_FALSE(has_toxic(server, "p", "lag")) << "what it added does not outlive it";
  EXPECT_TRUE(port_accepts(port));
}

TEST(Schedules, ErrorsNameTheFieldTheValueAndWhatIsAllowed) {
  ServerProcess server;
  server.create_proxy("p", free_port());
  auto post = [&](const std::string& body) { return server.api().post("/faultline/schedules", body); };
  EXPECT_EQ(post(R"({"proxy":"nope","kind":"flap"})").status, 404);
  auto r = post(R"({"proxy":"p","kind":"flap","up_ms":-5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("up_ms"), std::string::npos);
  EXPECT_NE(r.body.find("-5"), std::string::npos) << r.body;
  r = post(R"({"proxy":"p","kind":"flap","down_ms":0})");
  EXPECT_EQ(r.status, 400) << "a zero period";
  r = post(R"({"proxy":"p","kind":"flap","mode":"explode"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("refuse, timeout, reset, toxic"), std::string::npos) << r.body;
  r = post(R"({"proxy":"p","kind":"window","duration_ms":100,"toxic":{"type":"lag"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid toxic type"), std::string::npos) << r.body;
  r = post(R"({"proxy":"p","kind":"window","toxic":{"type":"noop"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("duration_ms"), std::string::npos) << r.body;
  r = post(R"({"proxy":"p","kind":"sometimes"})");
  EXPECT_EQ(r.status, 400);
  ASSERT_EQ(post(R"({"name":"x","proxy":"p","kind":"flap"})").status, 201);
  EXPECT_EQ(post(R"({"name":"x","proxy":"p","kind":"flap"})").status, 409);
  EXPECT_EQ(server.api().del("/faultline/schedules/none").status, 404);
  r = post(R"({"proxy":"p","kind":"ramp","toxic":"nope","attribute":"latency","from":0,"to":1,"duration_ms":10})");
  EXPECT_EQ(r.status, 404) << "a ramp on a toxic the proxy does not have";
  server.api().post("/proxies/p/toxics", R"({"name":"n","type":"noop"})");
  r = post(R"({"proxy":"p","kind":"wave","toxic":"n","attribute":"latency","min":0,"max":1,"period_ms":100})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("no such numeric attribute"), std::string::npos) << r.body;
  EXPECT_EQ(parse_json(server.api().get("/faultline/schedules").body).size(), 1u);
}

TEST(Schedules, AreCountedInMetricsAndShownInStats) {
  ServerProcess server(ServerOptions{{"-proxy-metrics"}});
  server.create_proxy("p", free_port());
  ASSERT_EQ(server.api().post("/faultline/schedules", R"({"name":"m","proxy":"p","kind":"flap","up_ms":50,"down_ms":50})").status, 201);
  std::this_thread::sleep_for(400ms);
  const Json stats = parse_json(server.api().get("/faultline/stats").body);
  EXPECT_EQ(stats["p"]["schedules"], Json::array({"m"}));
  const std::string metrics = server.api().get("/metrics").body;
  EXPECT_NE(metrics.find("faultline_schedules_active 1"), std::string::npos) << metrics;
  const std::regex transitions(R"(faultline_schedule_transitions_total\{kind="flap",proxy="p",schedule="m"\} ([0-9]+))");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics, m, transitions)) << metrics;
  EXPECT_GE(std::stoi(m[1]), 4);
}

}  // namespace
}  // namespace faultline::test
