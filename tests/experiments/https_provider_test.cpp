// The http provider over TLS, against a real TLS server (openssl s_server)
// with a certificate this test makes: verified by default, refused when the
// certificate is not trusted, accepted with verify_tls: false or once the
// authority is trusted (SSL_CERT_FILE, as OpenSSL reads it).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "CliRunner.h"
#include "Sockets.h"

namespace faultline::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-https-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string make_cert = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                                  "-addext subjectAltName=DNS:localhost -keyout " + (dir_ / "key.pem").string() +
                                  " -out " + (dir_ / "cert.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(make_cert.c_str()), 0) << "openssl is installed by scripts/setup.sh";
    port_ = free_port();
    server_ = ::fork();
    if (server_ == 0) {
      const std::string accept = std::to_string(port_), cert = (dir_ / "cert.pem").string(), key = (dir_ / "key.pem").string();
      std::freopen("/dev/null", "w", stdout);
      std::freopen("/dev/null", "w", stderr);
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(), "-cert", cert.c_str(), "-key",
               key.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !port_accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(port_accepts(port_)) << "openssl s_server did not start";
  }
  void TearDown() override {
    if (server_ > 0) {
      ::kill(server_, SIGTERM);
      ::waitpid(server_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  json run_probe(json provider, const CliOptions& options = {}) {
    const json e = {{"title", "https"}, {"method", {{{"type", "probe"}, {"name", "get"}, {"provider", provider}}}}};
    std::ofstream(dir_ / "e.json") << e.dump();
    const CliResult r = run_cli({"run", (dir_ / "e.json").string(), "--journal-path", (dir_ / "journal.json").string()}, options);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(dir_ / "journal.json");
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str())["run"][0];
  }
  json provider() const {
    return {{"type", "http"}, {"url", "https://localhost:" + std::to_string(port_) + "/"}, {"timeout", 5}};
  }

  fs::path dir_;
  int port_ = 0;
  pid_t server_ = -1;
};

TEST_F(HttpsTest, VerifiedByDefaultAndOnlyTrustedCertificatesPass) {
  json entry = run_probe(provider());
  EXPECT_EQ(entry["status"], "failed");
  EXPECT_NE(entry["exception"][0].get<std::string>().find("certificate verify failed"), std::string::npos) << entry.dump();

  json insecure = provider();
  insecure["verify_tls"] = false;
  entry = run_probe(insecure);
  ASSERT_EQ(entry["status"], "succeeded") << entry.dump();
  EXPECT_EQ(entry["output"]["status"], 200);

  CliOptions trusted;
  trusted.env = {{"SSL_CERT_FILE", (dir_ / "cert.pem").string()}};
  entry = run_probe(provider(), trusted);
  EXPECT_EQ(entry["status"], "succeeded") << "our own authority, trusted: " << entry.dump();

  json wrong_name = provider();
  wrong_name["url"] = "https://127.0.0.1:" + std::to_string(port_) + "/";
  entry = run_probe(wrong_name, trusted);
  EXPECT_EQ(entry["status"], "failed") << "the certificate names localhost, not 127.0.0.1";
}

}  // namespace
}  // namespace faultline::test
