// -state-file: a server killed with SIGKILL comes back, from its file, to a
// state that existed: the one after the last change the API acknowledged
// (or the one after the change it was answering when it died). A file that
// is not whole, or was altered, is refused at start-up and nothing of it is
// loaded.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "ServerProcess.h"
#include "api_test_helpers.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

namespace fs = std::filesystem;

class StateFile : public ::testing::Test {
 protected:
  StateFile() : dir_(fs::temp_directory_path() / ("faultline-state-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_))) {
    fs::create_directories(dir_);
  }
  ~StateFile() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file() const { return (dir_ / "state.json").string(); }
  std::unique_ptr<ServerProcess> start() { return std::make_unique<ServerProcess>(ServerOptions{{"-state-file", file()}}); }

  static inline int counter_ = 0;
  fs::path dir_;
};

// What a user would compare: each proxy with its toxics' names, types and attributes.
using State = std::map<std::string, std::string>;
State state_of(const ServerProcess& server) {
  State out;
  const auto proxies = nlohmann::json::parse(server.api().get("/proxies").body);
  for (const auto& [name, p] : proxies.items()) {
    std::string shape = p["upstream"].get<std::string>() + (p["enabled"].get<bool>() ? " on" : " off");
    for (const auto& t : p["toxics"]) shape += " " + t["name"].get<std::string>() + "=" + t["attributes"].dump();
    out[name] = shape;
  }
  return out;
}

TEST_F(StateFile, ARestartComesBackToTheProxiesToxicsAndSchedulesSetUp) {
  TestUpstream echo;
  State before;
  {
    auto server = start();
    auto api = server->api();
    const int port = server->create_proxy("redis", echo.port());
    ASSERT_EQ(api.post("/proxies/redis/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":250,"jitter":10}})").status, 200);
    ASSERT_EQ(api.post("/proxies/redis/toxics", R"({"name":"api","type":"http_error","stream":"upstream","toxicity":0.5,"attributes":{"path":"/api/*"}})").status, 200);
    ASSERT_EQ(api.post("/proxies/redis/toxics", R"({"name":"soon","type":"timeout","duration_ms":600000,"attributes":{"timeout":5}})").status, 200);
    server->create_proxy("idle", echo.port());
    ASSERT_EQ(api.post("/proxies/idle", R"({"enabled":false})").status, 200);
    // A flap that is "down" (the proxy refusing) when the server dies: the file keeps the proxy up and the flap.
    ASSERT_EQ(api.post("/faultline/schedules", R"({"name":"blink","proxy":"redis","kind":"flap","mode":"refuse","up_ms":1,"down_ms":600000})").status, 201);
    for (int i = 0; i < 100 && port_accepts(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(port_accepts(port)) << "the flap is down";
    before = state_of(*server);
    server->stop(SIGKILL);
  }
  // The flap was down when the server died; the file holds the proxy as it
  // is without the flap (enabled) and the flap, which starts over.
  std::ifstream saved(file());
  const std::string text(std::istreambuf_iterator<char>(saved), {});
  const size_t list = text.find("\"proxies\":") + std::string("\"proxies\":").size();
  const auto proxies = nlohmann::json::parse(text.substr(list, text.rfind('}') - list));
  for (const auto& p : proxies) {
    if (p["name"] == "redis") {
      EXPECT_TRUE(p["enabled"].get<bool>()) << p.dump();
    }
  }
  auto server = start();
  State after = state_of(*server);
  auto without_enabled = [](State s) {
    if (auto at = s["redis"].find(" off"); at != std::string::npos) s["redis"].replace(at, 4, " on");
    return s;
  };
  EXPECT_EQ(without_enabled(after), without_enabled(before));
  const auto schedules = nlohmann::json::parse(server->api().get("/faultline/schedules").body);
  ASSERT_EQ(schedules.size(), 1u) << schedules.dump();
  EXPECT_EQ(schedules[0]["name"], "blink");
  const auto timed = nlohmann::json::parse(server->api().get("/proxies/redis/toxics/soon").body);
  EXPECT_GT(timed["expires_in_ms"].get<int64_t>(), 500000) << "a timed toxic keeps the time it had left";
  EXPECT_NE(server->output().find("state restored"), std::string::npos);
}

TEST_F(StateFile, AFileThatIsNotWholeOrWasAlteredIsRefusedAndNothingLoads) {
  {
    auto server = start();
    TestUpstream echo;
    server->create_proxy("a", echo.port());
    server->create_proxy("b", echo.port());
    server->stop(SIGKILL);
  }
  std::string text;
  {
    std::ifstream in(file());
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_NE(text.find("\"b\""), std::string::npos);
  ASSERT_TRUE(fs::exists(file() + ".prev")) << "the state before the last change is kept";
  auto refused = [&](const std::string& content, const std::string& why) {
    { std::ofstream(file(), std::ios::trunc) << content; }
    const auto r = run_server_to_exit({"-port", "0", "-state-file", file()});
    EXPECT_EQ(r.exit_code, 1) << why << ": " << r.output;
    EXPECT_NE(r.output.find(file()), std::string::npos) << why << ": the error names the file: " << r.output;
    EXPECT_NE(r.output.find("nothing was loaded"), std::string::npos) << why << ": " << r.output;
    std::ifstream in(file());
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content) << why << ": a refused file is left as it is";
  };
  refused(text.substr(0, text.size() / 2), "torn in half");
  std::string altered = text;
  altered.replace(altered.find("\"b\""), 3, "\"c\"");
  refused(altered, "a name changed by hand");
  refused("", "empty");
  refused(R"({"faultline_state":"1","sha256":"00","proxies":[]})", "a header field of the wrong type");
  { std::ofstream(file(), std::ios::trunc) << text; }
  auto server = start();
  EXPECT_EQ(state_of(*server).size(), 2u) << "the whole file loads";
}

bool echoes_through(int port) {
  Socket client(connect_tcp(port));
  if (!client.valid()) return false;
  client.send("ping");
  return recv_exact(client.fd(), 4).data == "ping";
}

TEST_F(StateFile, AProxyWhosePortIsTakenMeanwhileComesBackDisabledAndTheRestRuns) {
  TestUpstream echo;
  int taken_port = 0;
  {
    auto server = start();
    taken_port = server->create_proxy("taken", echo.port());
    server->create_proxy("free", echo.port());
    server->stop(SIGKILL);
  }
  // Another program listens on the port while the server is down.
  std::optional<api::PortHolder> squatter(std::in_place, taken_port);
  ASSERT_TRUE(squatter->ok());
  auto server = start();
  const auto proxies = nlohmann::json::parse(server->api().get("/proxies").body);
  EXPECT_FALSE(proxies["taken"]["enabled"].get<bool>()) << proxies.dump();
  EXPECT_EQ(proxies["taken"]["listen"], "127.0.0.1:" + std::to_string(taken_port)) << "it keeps its address";
  EXPECT_TRUE(proxies["free"]["enabled"].get<bool>());
  EXPECT_TRUE(echoes_through(std::stoi(proxies["free"]["listen"].get<std::string>().substr(10))));
  EXPECT_NE(server->output().find("proxy restored disabled"), std::string::npos) << server->output();
  // Once the address is free, enabling the proxy binds it again.
  squatter.reset();
  EXPECT_EQ(server->api().post("/proxies/taken", R"({"enabled":true})").status, 200);
  EXPECT_TRUE(echoes_through(taken_port));
}

// Changes one at a time, each acknowledged before the next, while the
// server may die at any moment; records the state after each.
struct ChangeStream {
  explicit ChangeStream(int port, State start, unsigned seed) : api(port), states{std::move(start)}, rng(seed) {}
  void run(std::atomic<bool>& stop) {
    try {
      changes(stop);
    } catch (const std::exception&) {
      // The server died in the middle of an exchange: that change is the one in flight.
    }
  }
  void changes(std::atomic<bool>& stop) {
    for (int i = 0; !stop; ++i) {
      State next = states.back();
      HttpResponse r;
      const int index = static_cast<int>(rng() % 12);
      const std::string name = "p" + std::to_string(index);
      if (!next.count(name)) {
        next[name] = "127.0.0.1:9 on";
        set_attempt(next);
        // Below the kernel's ephemeral range: a port the kernel picked would
        // be free for any test running alongside to take while the server is
        // dead, and the restart could not listen there again.
        const std::string listen = "127.0.0.1:" + std::to_string(port_base + index);
        r = api.post("/proxies", R"({"name":")" + name + R"(","listen":")" + listen + R"(","upstream":"127.0.0.1:9"})");
        if (r.status != 201) return;
      } else if (rng() % 3 == 0) {
        next.erase(name);
        set_attempt(next);
        r = api.del("/proxies/" + name);
        if (r.status != 204) return;
      } else {
        const int latency = static_cast<int>(rng() % 1000);
        const bool has = next[name].find(" lag=") != std::string::npos;
        next[name] = "127.0.0.1:9 on lag=" + nlohmann::json({{"latency", latency}, {"jitter", 0}}).dump();
        set_attempt(next);
        r = has ? api.post("/proxies/" + name + "/toxics/lag", R"({"attributes":{"latency":)" + std::to_string(latency) + "}}")
                : api.post("/proxies/" + name + "/toxics", R"({"name":"lag","type":"latency","attributes":{"latency":)" +
                                                               std::to_string(latency) + "}}");
        if (r.status != 200) return;
      }
      states.push_back(std::move(next));
    }
  }
  void set_attempt(const State& s) { attempt = s; }
  HttpClient api;
  const int port_base = 23000 + static_cast<int>(::getpid() % 80) * 12;
  std::vector<State> states;  // after each acknowledged change (the first: before any)
  State attempt;              // what the change being sent would make
  std::mt19937 rng;
};

TEST_F(StateFile, SigkillAtRandomMomentsDuringChangesAlwaysLeavesAStateThatExisted) {
  std::mt19937 rng(20261206);
  State current;
  int changes = 0;
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto server = start();
    ASSERT_EQ(state_of(*server), current) << "restored from the last round";
    ChangeStream stream(server->api_port(), current, rng());
    std::atomic<bool> stop{false};
    std::thread client([&] { stream.run(stop); });
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 300));
    server->stop(SIGKILL);
    stop = true;
    client.join();
    const size_t acked = stream.states.size() - 1;
    changes += static_cast<int>(acked);
    auto restarted = start();
    current = state_of(*restarted);
    // Durable: every acknowledged change is there. Atomic: nothing else, but
    // perhaps the change the server was answering when it died.
    const bool last_acked = current == stream.states[acked];
    const bool in_flight = current == stream.attempt;
    EXPECT_TRUE(last_acked || in_flight) << "restored a state that was never acknowledged (after " << acked << " changes)";
    if (!last_acked && !in_flight) return;
    restarted->stop(SIGTERM);
  }
  EXPECT_GT(changes, 40) << "the rounds made changes to kill in the middle of";
}

}  // namespace
}  // namespace faultline::test
