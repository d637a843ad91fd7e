// The admin API's access control and TLS, as the clients a user has see
// them: raw HTTP (what any client sends), the faultline CLI with flags and
// with environment variables, `faultline load --events`, curl over https
// with certificates this test makes, and mutual TLS.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "CliRunner.h"
#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

namespace faultline::test {
namespace {

namespace fs = std::filesystem;
const std::string kToken = "s3cret-token";

std::vector<std::pair<std::string, std::string>> bearer(const std::string& token = kToken) {
  return {{"Authorization", "Bearer " + token}};
}
std::string proxy_body(const std::string& name) {
  return R"({"name":")" + name + R"(","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})";
}

TEST(ApiToken, ChangesNeedTheTokenAndReadsDoNot) {
  ServerProcess server(ServerOptions{{"-api-token", kToken}});
  const auto api = server.api();
  const auto refused = api.post("/proxies", proxy_body("a"));
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["status"], 401) << refused.body;
  EXPECT_NE(refused.body.find("Bearer"), std::string::npos) << refused.body;
  EXPECT_NE(refused.header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(api.request("POST", "/proxies", proxy_body("a"), bearer("wrong")).status, 401);
  EXPECT_EQ(api.request("POST", "/proxies", proxy_body("a"), bearer()).status, 201);
  // Basic credentials whose user name (or password) is the token: what a client sends for http://TOKEN@host.
  EXPECT_EQ(api.request("POST", "/proxies", proxy_body("b"), {{"Authorization", "Basic czNjcmV0LXRva2VuOg=="}}).status, 201);
  EXPECT_EQ(api.request("DELETE", "/proxies/b", "", {{"Authorization", "Basic dXNlcjpzM2NyZXQtdG9rZW4="}}).status, 204);
  // The token as the first segments of the path, for clients that only take a base URL.
  EXPECT_EQ(api.post("/token/" + kToken + "/proxies", proxy_body("c")).status, 201);
  EXPECT_EQ(api.post("/token/nope/proxies", proxy_body("d")).status, 401);
  EXPECT_EQ(api.del("/proxies/a").status, 401);
  EXPECT_EQ(api.post("/reset").status, 401);
  EXPECT_EQ(api.post("/faultline/schedules", R"({"proxy":"a","kind":"flap"})").status, 401);
  // Reads stay open unless -api-token-reads.
  EXPECT_EQ(api.get("/proxies").status, 200);
  EXPECT_EQ(nlohmann::json::parse(api.get("/proxies").body).size(), 2u) << "a and c; nothing refused got in";
}

TEST(ApiToken, WithTokenReadsEveryReadNeedsItButHealthAndVersion) {
  ServerProcess server(ServerOptions{{"-api-token-reads"}, {{"FAULTLINE_API_TOKEN", kToken}}});
  const auto api = server.api();
  EXPECT_EQ(api.get("/proxies").status, 401);
  EXPECT_EQ(api.get("/faultline/events?poll=1").status, 401);
  EXPECT_EQ(api.request("GET", "/proxies", "", bearer()).status, 200);
  EXPECT_EQ(api.get("/version").status, 200);
  EXPECT_EQ(api.get("/faultline/health").status, 200);
  EXPECT_EQ(api.get("/faultline/ready").status, 200);
  EXPECT_EQ(nlohmann::json::parse(api.request("GET", "/faultline/server", "", bearer()).body)["api"]["token_for_reads"], true);
}

TEST(ApiToken, BadTokenFlagsAreRefusedAtStartUp) {
  const auto reads = run_server_to_exit({"-api-token-reads"});
  EXPECT_EQ(reads.exit_code, 2);
  EXPECT_NE(reads.output.find("-api-token-reads needs a token"), std::string::npos) << reads.output;
  const auto spaces = run_server_to_exit({"-api-token", "has space"});
  EXPECT_EQ(spaces.exit_code, 2);
  EXPECT_NE(spaces.output.find("-api-token"), std::string::npos) << spaces.output;
}

TEST(ApiToken, TheCliLoadAndTheFlagsSendIt) {
  ServerProcess server(ServerOptions{{"-api-token", kToken}});
  const std::string url = api_url(server.api_port());
  const auto without = run_cli({"-h", url, "create", "web", "-l", "127.0.0.1:0", "-u", "127.0.0.1:9"});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_NE(without.err.find("401"), std::string::npos) << without.err;
  const auto from_env = run_cli({"-h", url, "create", "web", "-l", "127.0.0.1:0", "-u", "127.0.0.1:9"},
                                CliOptions{{{"FAULTLINE_API_TOKEN", kToken}}});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  const auto from_flag = run_cli({"-h", url, "--token", kToken, "latency", "web", "100"});
  EXPECT_EQ(from_flag.exit_code, 0) << from_flag.err;
  const auto from_url = run_cli({"-h", "http://" + kToken + "@127.0.0.1:" + std::to_string(server.api_port()), "latency", "web", "off"});
  EXPECT_EQ(from_url.exit_code, 0) << from_url.err;
  // A failure never prints the token.
  const auto unreachable = run_cli({"-h", "http://" + kToken + "@127.0.0.1:1", "list"});
  EXPECT_EQ(unreachable.err.find(kToken), std::string::npos) << unreachable.err;
}

TEST(ApiToken, LoadFollowsTheEventStreamWithTheToken) {
  ServerProcess server(ServerOptions{{"-api-token-reads", "-api-token", kToken}});
  TestUpstream echo;
  const auto created = server.api().request(
      "POST", "/proxies", R"({"name":"echo","listen":"127.0.0.1:0","upstream":"127.0.0.1:)" + std::to_string(echo.port()) + R"("})",
      bearer());
  ASSERT_EQ(created.status, 201) << created.body;
  const int port = std::stoi(nlohmann::json::parse(created.body)["listen"].get<std::string>().substr(10));
  const std::string report = (fs::temp_directory_path() / ("faultline-load-token-" + std::to_string(::getpid()) + ".json")).string();
  auto load = [&](const CliOptions& options) {
    return run_cli({"load", "tcp://127.0.0.1:" + std::to_string(port), "--duration", "1s", "--rate", "50/s", "--events",
                    api_url(server.api_port()), "--json", report, "--quiet"},
                   options);
  };
  const auto refused = load({});
  EXPECT_EQ(refused.exit_code, 1) << "without the token the event stream is refused, and load says so before it starts";
  EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;
  // A fault during the run: load must see it on the stream.
  std::thread fault([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    server.api().request("POST", "/proxies/echo/toxics", R"({"type":"latency","attributes":{"latency":20}})", bearer());
  });
  const auto followed = load(CliOptions{{{"FAULTLINE_API_TOKEN", kToken}}});
  fault.join();
  ASSERT_EQ(followed.exit_code, 0) << followed.err;
  std::ifstream in(report);
  const auto result = nlohmann::json::parse(in, nullptr, false);
  EXPECT_EQ(result["warnings"].dump().find("401"), std::string::npos) << result["warnings"];
  EXPECT_NE(result["events"].dump().find("toxic_added"), std::string::npos) << result["events"];
  fs::remove(report);
}

// A certificate authority, a server certificate for 127.0.0.1 and localhost,
// and a client certificate, made with the openssl command for each test.
class TlsFiles {
 public:
  TlsFiles() : dir_(fs::temp_directory_path() / ("faultline-tls-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    const std::string script =
        "cd " + d + " && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=faultline-test-ca -keyout ca.key -out ca.pem && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.cnf -out server.pem && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout client.key -out client.csr && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=stranger -keyout other.key -out other.pem";
    ok_ = std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0;
  }
  ~TlsFiles() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string operator()(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  bool ok_ = false;
};

// A server serving https only: ready once its port accepts.
std::unique_ptr<ServerProcess> tls_server(std::vector<std::string> args) {
  ServerOptions o{std::move(args)};
  o.wait_ready = false;
  auto server = std::make_unique<ServerProcess>(o);
  for (int i = 0; i < 200 && !port_accepts(server->api_port()); ++i) ::usleep(25000);
  return server;
}

std::string curl(const std::string& args) {
  std::string out;
  FILE* p = ::popen(("curl -s --max-time 10 " + args + " 2>&1; echo \" rc=$?\"").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(ApiTls, HttpsWithATrustedCertificateFromCurlAndTheCli) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok()) << "openssl is installed by scripts/setup.sh";
  auto server = tls_server({"-api-tls-cert", tls("server.pem"), "-api-tls-key", tls("server.key"), "-api-token", kToken});
  const std::string base = "https://127.0.0.1:" + std::to_string(server->api_port());
  EXPECT_NE(curl("--cacert " + tls("ca.pem") + " " + base + "/version").find("\"version\""), std::string::npos);
  EXPECT_NE(curl(base + "/version").find("rc=60"), std::string::npos) << "an untrusted certificate is refused";
  EXPECT_NE(curl("http://127.0.0.1:" + std::to_string(server->api_port()) + "/version").find("rc=52"), std::string::npos)
      << "no plain http on a TLS port";
  const std::string created = curl("--cacert " + tls("ca.pem") + " -H 'Authorization: Bearer " + kToken + "' -X POST " + base +
                                   "/proxies -d '" + proxy_body("web") + "'");
  EXPECT_NE(created.find("\"name\":\"web\""), std::string::npos) << created;

  const auto untrusted = run_cli({"-h", base, "list"});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.err.find("TLS handshake failed"), std::string::npos) << untrusted.err;
  const auto trusted = run_cli({"-h", base, "--cacert", tls("ca.pem"), "list"});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_NE(trusted.out.find("web"), std::string::npos);
  const auto insecure = run_cli({"-h", base, "--insecure", "--token", kToken, "toggle", "web"});
  EXPECT_EQ(insecure.exit_code, 0) << insecure.err;
  const auto by_env = run_cli({"-h", "https://localhost:" + std::to_string(server->api_port()), "latency", "web", "10"},
                              CliOptions{{{"FAULTLINE_CACERT", tls("ca.pem")}, {"FAULTLINE_API_TOKEN", kToken}}});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.err;
}

TEST(ApiTls, FaultlineRunDrivesAnHttpsApiWithAToken) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok());
  auto server = tls_server({"-api-tls-cert", tls("server.pem"), "-api-tls-key", tls("server.key"), "-api-token", kToken});
  const std::string base = "https://127.0.0.1:" + std::to_string(server->api_port());
  const nlohmann::json experiment = {
      {"version", "1.0.0"},
      {"title", "over https with a token"},
      {"configuration", {{"faultline_url", base}}},
      {"method",
       {{{"type", "action"},
         {"name", "create"},
         {"provider", {{"type", "faultline"}, {"func", "request"}, {"arguments", {{"method", "POST"}, {"path", "/proxies"}, {"body", nlohmann::json::parse(proxy_body("db"))}}}}}},
        {{"type", "probe"},
         {"name", "listed"},
         {"provider", {{"type", "faultline"}, {"func", "get_proxy"}, {"arguments", {{"proxy", "db"}}}}},
         {"tolerance", {{"type", "jsonpath"}, {"path", "$.name"}, {"expect", "db"}}}}}}};
  const std::string file = tls("experiment.json"), journal = tls("journal.json");
  std::ofstream(file) << experiment.dump(2);
  auto journal_of = [&](const CliOptions& options) {
    run_cli({"run", file, "--journal-path", journal}, options);
    std::ifstream in(journal);
    return nlohmann::json::parse(in, nullptr, false);
  };
  const auto refused = journal_of(CliOptions{{{"FAULTLINE_CACERT", tls("ca.pem")}}});
  ASSERT_TRUE(refused.is_object());
  EXPECT_EQ(refused["run"][0]["status"], "failed") << "without the token the action is refused: " << refused["run"][0].dump();
  EXPECT_NE(refused["run"][0].dump().find("401"), std::string::npos) << refused["run"][0].dump();
  const auto ran = journal_of(CliOptions{{{"FAULTLINE_CACERT", tls("ca.pem")}, {"FAULTLINE_API_TOKEN", kToken}}});
  ASSERT_TRUE(ran.is_object());
  ASSERT_EQ(ran["run"].size(), 2u) << ran.dump();
  for (const auto& entry : ran["run"]) EXPECT_EQ(entry["status"], "succeeded") << entry.dump();
}

TEST(ApiTls, MutualTlsWantsAClientCertificateTheAuthoritySigned) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok());
  auto server = tls_server({"-api-tls-cert", tls("server.pem"), "-api-tls-key", tls("server.key"), "-api-tls-client-ca", tls("ca.pem")});
  const std::string base = "https://127.0.0.1:" + std::to_string(server->api_port());
  const std::string trust = "--cacert " + tls("ca.pem") + " ";
  EXPECT_EQ(curl(trust + base + "/version").find("\"version\""), std::string::npos) << "no client certificate, no API";
  EXPECT_EQ(curl(trust + "--cert " + tls("other.pem") + " --key " + tls("other.key") + " " + base + "/version").find("\"version\""),
            std::string::npos)
      << "a certificate another authority signed is refused";
  EXPECT_NE(curl(trust + "--cert " + tls("client.pem") + " --key " + tls("client.key") + " " + base + "/version").find("\"version\""),
            std::string::npos);
  const auto without = run_cli({"-h", base, "--cacert", tls("ca.pem"), "list"});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_NE(without.err.find("client certificate"), std::string::npos) << without.err;
  const auto with = run_cli({"-h", base, "--cacert", tls("ca.pem"), "--cert", tls("client.pem"), "--key", tls("client.key"), "list"});
  EXPECT_EQ(with.exit_code, 0) << with.err;
}

TEST(ApiTls, BadTlsFilesAreRefusedAtStartUpNamingTheFlag) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok());
  const auto half = run_server_to_exit({"-api-tls-cert", tls("server.pem")});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.output.find("-api-tls-key"), std::string::npos) << half.output;
  const auto missing = run_server_to_exit({"-api-tls-cert", tls("nope.pem"), "-api-tls-key", tls("server.key")});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("nope.pem"), std::string::npos) << missing.output;
  const auto mismatched = run_server_to_exit({"-port", "0", "-api-tls-cert", tls("server.pem"), "-api-tls-key", tls("other.key")});
  EXPECT_NE(mismatched.exit_code, 0);
  EXPECT_NE(mismatched.output.find("-api-tls-key"), std::string::npos) << mismatched.output;
}

TEST(ApiExposure, ListeningBeyondLoopbackWithoutATokenIsWarnedAbout) {
  ServerProcess open_server(ServerOptions{{"-host", "0.0.0.0"}});
  EXPECT_TRUE(open_server.wait_for_output("without a token")) << open_server.output();
  const auto stats = open_server.api().get("/faultline/stats");
  EXPECT_NE(stats.header("x-faultline-warning").find("without a token"), std::string::npos);
  const auto server_view = nlohmann::json::parse(open_server.api().get("/faultline/server").body);
  ASSERT_EQ(server_view["warnings"].size(), 1u) << server_view.dump();
  ServerProcess guarded(ServerOptions{{"-host", "0.0.0.0", "-api-token", kToken}});
  ASSERT_TRUE(guarded.wait_for_output("server started")) << guarded.output();  // logged after any warning
  EXPECT_EQ(guarded.output().find("without a token"), std::string::npos) << guarded.output();
  EXPECT_FALSE(guarded.api().get("/faultline/stats").has_header("x-faultline-warning"));
}

}  // namespace
}  // namespace faultline::test
