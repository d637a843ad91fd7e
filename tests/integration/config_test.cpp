// The -config file (D14): JSON or YAML, proxies and their toxics created
// before the API answers; a bad file stops start-up with one line that names
// the entry, the field, the value and what is allowed. Also checks the files
// in examples/.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ServerProcess.h"
#include "Sockets.h"
#include "Upstreams.h"

#ifndef FAULTLINE_SOURCE_DIR
#error "FAULTLINE_SOURCE_DIR must point at the repository root"
#endif

namespace faultline::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A config file in a private temporary directory, removed with the object.
class TempConfig {
 public:
  TempConfig(const std::string& file_name, const std::string& content) {
    char dir[] = "/tmp/faultline-config-XXXXXX";
    dir_ = ::mkdtemp(dir);
    path_ = dir_ + "/" + file_name;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempConfig() { fs::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Runs the server with a config that must be refused; returns what it printed.
RunResult run_with_config(const std::string& path) {
  return run_server_to_exit({"-host", "127.0.0.1", "-port", std::to_string(free_port()), "-config", path});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The refusal is one error line holding every fragment. A file that fails
// validation stops start-up before anything is logged, so that line is all
// the output; `alone` is false where earlier entries may have started.
void expect_refused(const std::string& path, const std::vector<std::string>& fragments, bool alone = true) {
  const RunResult r = run_with_config(path);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, -1) << "the server did not stop by itself: " << r.output;
  const auto lines = lines_of(r.output);
  std::vector<std::string> errors;
  for (const auto& line : lines)
    if (line.rfind("faultline-server: ", 0) == 0) errors.push_back(line);
  ASSERT_EQ(errors.size(), 1u) << "expected a one-line error, got:\n" << r.output;
  if (alone) {
    EXPECT_EQ(lines.size(), 1u) << "expected nothing but the error, got:\n" << r.output;
  }
  for (const auto& f : fragments) EXPECT_NE(errors[0].find(f), std::string::npos) << "missing \"" << f << "\" in: " << errors[0];
}

json proxies_of(const ServerProcess& server) {
  const HttpResponse r = server.api().get("/proxies");
  EXPECT_EQ(r.status, 200);
  return json::parse(r.body);
}

int port_of(const std::string& listen) { return std::stoi(listen.substr(listen.rfind(':') + 1)); }

TEST(ConfigFile, JsonCreatesProxiesAndTheirToxicsBeforeTheApiAnswers) {
  TestUpstream echo;
  const std::string upstream = "127.0.0.1:" + std::to_string(echo.port());
  const json config = json::array({
      {{"name", "with_toxics"}, {"listen", "127.0.0.1:0"}, {"upstream", upstream},
       {"toxics", json::array({
           {{"name", "lag"}, {"type", "latency"}, {"stream", "downstream"}, {"attributes", {{"latency", 300}}}},
           {{"type", "bandwidth"}, {"stream", "upstream"}, {"toxicity", 0.5}, {"attributes", {{"rate", 1000}}}},
       })}},
      {{"name", "plain"}, {"listen", "127.0.0.1:0"}, {"upstream", upstream}},
      {{"name", "off"}, {"listen", "127.0.0.1:0"}, {"upstream", upstream}, {"enabled", false}},
  });
  TempConfig file("proxies.json", config.dump(2));
  ServerProcess server({.args = {"-config", file.path()}});
  const json proxies = proxies_of(server);
  ASSERT_EQ(proxies.size(), 3u) << proxies.dump();

  const json& toxic = proxies["with_toxics"];
  EXPECT_TRUE(toxic["enabled"].get<bool>());
  EXPECT_EQ(toxic["upstream"], upstream);
  ASSERT_EQ(toxic["toxics"].size(), 2u) << toxic.dump();
  json by_name;
  for (const auto& t : toxic["toxics"]) by_name[t["name"].get<std::string>()] = t;
  ASSERT_TRUE(by_name.contains("lag")) << toxic.dump();
  EXPECT_EQ(by_name["lag"]["type"], "latency");
  EXPECT_EQ(by_name["lag"]["attributes"]["latency"], 300);
  ASSERT_TRUE(by_name.contains("bandwidth_upstream")) << "default toxic name: " << toxic.dump();
  EXPECT_EQ(by_name["bandwidth_upstream"]["stream"], "upstream");
  EXPECT_DOUBLE_EQ(by_name["bandwidth_upstream"]["toxicity"].get<double>(), 0.5);
  EXPECT_EQ(by_name["bandwidth_upstream"]["attributes"]["rate"], 1000);

  EXPECT_TRUE(proxies["plain"]["enabled"].get<bool>());
  EXPECT_TRUE(proxies["plain"]["toxics"].empty());
  EXPECT_FALSE(proxies["off"]["enabled"].get<bool>());

  // The toxics are in force on the first connection: the echo comes back late.
  Socket client(connect_tcp(port_of(toxic["listen"])));
  ASSERT_TRUE(client.valid());
  const auto started = std::chrono::steady_clock::now();
  client.send("z");
  EXPECT_EQ(recv_exact(client.fd(), 1, 5s).data, "z");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  // And the plain proxy forwards.
  Socket plain(connect_tcp(port_of(proxies["plain"]["listen"])));
  ASSERT_TRUE(plain.valid());
  plain.send("plain");
  EXPECT_EQ(recv_exact(plain.fd(), 5).data, "plain");
}

TEST(ConfigFile, YamlIsReadLikeJson) {
  TestUpstream echo;
  const std::string yaml =
      "# comment lines are fine\n"
      "- name: yaml_proxy\n"
      "  listen: 127.0.0.1:0\n"
      "  upstream: 127.0.0.1:" + std::to_string(echo.port()) + "\n"
      "  toxics:\n"
      "    - name: chop\n"
      "      type: slicer\n"
      "      stream: upstream\n"
      "      toxicity: 1\n"
      "      attributes:\n"
      "        average_size: 4\n"
      "        size_variation: 1\n"
      "- name: yaml_disabled\n"
      "  listen: \"127.0.0.1:0\"\n"
      "  upstream: \"127.0.0.1:9\"\n"
      "  enabled: false\n";
  TempConfig file("proxies.yaml", yaml);
  ServerProcess server({.args = {"-config", file.path()}});
  const json proxies = proxies_of(server);
  ASSERT_EQ(proxies.size(), 2u) << proxies.dump();
  const json& p = proxies["yaml_proxy"];
  EXPECT_TRUE(p["enabled"].get<bool>());
  ASSERT_EQ(p["toxics"].size(), 1u) << p.dump();
  EXPECT_EQ(p["toxics"][0]["name"], "chop");
  EXPECT_EQ(p["toxics"][0]["type"], "slicer");
  EXPECT_EQ(p["toxics"][0]["attributes"]["average_size"], 4);
  EXPECT_FALSE(proxies["yaml_disabled"]["enabled"].get<bool>());
  Socket client(connect_tcp(port_of(p["listen"])));
  ASSERT_TRUE(client.valid());
  client.send("sliced but whole");
  EXPECT_EQ(recv_exact(client.fd(), 16).data, "sliced but whole");
}

TEST(ConfigFile, AnEmptyListStartsWithNoProxies) {
  TempConfig file("empty.json", "[]");
  ServerProcess server({.args = {"-config", file.path()}});
  EXPECT_TRUE(proxies_of(server).empty());
}

struct BadConfig {
  const char* name;
  const char* file;
  std::string content;
  std::vector<std::string> fragments;
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class InvalidConfig : public testing::TestWithParam<BadConfig> {};

TEST_P(InvalidConfig, StopsStartUpWithAOneLineErrorNamingTheProblem) {
  const BadConfig& c = GetParam();
  TempConfig file(c.file, c.content);
  expect_refused(file.path(), c.fragments);
}

const std::string kOk = R"("listen": "127.0.0.1:0", "upstream": "127.0.0.1:9")";

INSTANTIATE_TEST_SUITE_P(
    ConfigFile, InvalidConfig,
    testing::Values(
        BadConfig{"MissingUpstream", "c.json", R"([{"name": "a", "listen": "127.0.0.1:0"}])",
                  {"proxy #1", "\"a\"", "upstream", "missing", "required"}},
        BadConfig{"EmptyName", "c.json", R"([{"name": "", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}])",
                  {"proxy #1", "name", "\"\"", "non-empty"}},
        BadConfig{"ListenWithoutPort", "c.json", R"([{"name": "a", "listen": "127.0.0.1", "upstream": "127.0.0.1:9"}])",
                  {"proxy #1", "\"a\"", "listen", "\"127.0.0.1\"", "missing port", "host:port"}},
        BadConfig{"PortOutOfRange", "c.json", R"([{"name": "a", "listen": "127.0.0.1:99999", "upstream": "127.0.0.1:9"}])",
                  {"proxy #1", "listen", "99999", "invalid port", "65535"}},
        BadConfig{"UpstreamPortZero", "c.json", R"([{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:0"}])",
                  {"proxy #1", "upstream", "\"127.0.0.1:0\"", "1 to 65535"}},
        BadConfig{"UnknownToxicType", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "lag"}]}])",
                  {"proxy #1", "toxic #1", "type", "\"lag\"", "latency", "bandwidth", "slow_close"}},
        BadConfig{"NonIntegerAttribute", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "latency", "attributes": {"latency": 1.5}}]}])",
                  {"proxy #1", "toxic #1", "attributes.latency", "1.5", "whole number"}},
        BadConfig{"StringAttribute", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "latency", "attributes": {"latency": "100"}}]}])",
                  {"attributes.latency", "\"100\"", "whole number"}},
        BadConfig{"UnknownAttribute", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "latency", "attributes": {"delay": 1}}]}])",
                  {"attributes.delay", "latency, jitter"}},
        BadConfig{"NegativeBandwidth", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "bandwidth", "attributes": {"rate": -1}}]}])",
                  {"proxy #1", "toxic #1", "rate"}},
        BadConfig{"BadStream", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "noop", "stream": "sideways"}]}])",
                  {"toxic #1", "stream", "\"sideways\"", "upstream", "downstream"}},
        BadConfig{"ToxicityAboveOne", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "noop", "toxicity": 2}]}])",
                  {"toxic #1", "toxicity", "2", "0 to 1"}},
        BadConfig{"DuplicateToxicNames", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "toxics": [{"type": "noop"}, {"type": "noop"}]}])",
                  {"toxic #2", "name", "noop_downstream", "same name"}},
        BadConfig{"DuplicateProxyNames", "c.json",
                  "[{\"name\": \"twin\", " + kOk + "}, {\"name\": \"twin\", " + kOk + "}]",
                  {"proxy #2", "\"twin\"", "name", "same name"}},
        BadConfig{"EnabledNotABoolean", "c.json",
                  "[{\"name\": \"a\", " + kOk + R"(, "enabled": "yes"}])",
                  {"proxy #1", "enabled", "\"yes\"", "true or false"}},
        BadConfig{"NotAnArray", "c.json", R"({"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"})",
                  {"list", "array", "object"}},
        BadConfig{"EntryNotAnObject", "c.json", R"(["a"])", {"proxy #1", "object", "\"a\""}},
        BadConfig{"MalformedJson", "c.json", "[{\"name\": \"a\",", {"c.json", "not valid JSON"}},
        BadConfig{"MalformedYaml", "c.yaml", "- name: [unclosed\n", {"c.yaml", "not valid YAML", "line"}},
        BadConfig{"YamlPortOutOfRange", "c.yml", "- name: y\n  listen: 127.0.0.1:70000\n  upstream: 127.0.0.1:9\n",
                  {"proxy #1", "\"y\"", "listen", "70000", "invalid port"}},
        BadConfig{"SameListenAddressTwice", "c.json",
                  R"([{"name": "one", "listen": "127.0.0.1:29999", "upstream": "127.0.0.1:9"},
                      {"name": "two", "listen": "127.0.0.1:29999", "upstream": "127.0.0.1:9"}])",
                  {"proxy #2", "\"two\"", "listen", "127.0.0.1:29999", "proxy #1"}}),
    [](const testing::TestParamInfo<BadConfig>& info) { return std::string(info.param.name); });

// Hostile files, kept in tests/data/hostile-config/: each once crashed the
// server, grew it without bound or was accepted with a wrong meaning. Each
// must be refused quickly with one line naming the problem.
struct HostileConfig {
  const char* file;
  std::vector<std::string> fragments;
};

void PrintTo(const HostileConfig& c, std::ostream* os) { *os << c.file; }

class HostileConfigFile : public testing::TestWithParam<HostileConfig> {};

TEST_P(HostileConfigFile, IsRefusedWithOneLine) {
  const std::string path = std::string(FAULTLINE_SOURCE_DIR) + "/tests/data/hostile-config/" + GetParam().file;
  ASSERT_TRUE(fs::exists(path)) << path;
  expect_refused(path, GetParam().fragments);
}

INSTANTIATE_TEST_SUITE_P(
    ConfigFile, HostileConfigFile,
    testing::Values(
        HostileConfig{"number-overflow.json", {"1e400", "out of range"}},
        HostileConfig{"number-overflow-unknown-key.json", {"1e400", "out of range"}},
        HostileConfig{"alias-bomb.yaml", {"aliases", "200000"}},
        HostileConfig{"self-alias.yaml", {"nested deeper than 64"}},
        HostileConfig{"truncated.yaml", {"toxic #1", "attributes.latency", "null"}},
        HostileConfig{"two-documents.yaml", {"more than one document", "exactly one"}},
        HostileConfig{"yaml-loadall-loop.yaml", {"more than one document"}},
        HostileConfig{"invalid-utf8.yaml", {"line 1", "not valid UTF-8"}},
        HostileConfig{"invalid-utf8-name.yaml", {"line 1", "not valid UTF-8"}},
        HostileConfig{"duplicate-keys.yaml", {"line 8", "\"latency\"", "twice"}},
        HostileConfig{"negative-rate.yaml", {"toxic #1", "rate", "-5", "0 or more"}},
        HostileConfig{"huge-jitter.json", {"jitter", "4611686018427387904", "allowed", "31536000000"}},
        HostileConfig{"huge-rate.json", {"rate", "4611686018427387904", "100000000"}},
        HostileConfig{"nan-toxicity.yaml", {"toxicity", ".nan", "0 to 1"}},
        HostileConfig{"long-name.json", {"proxy #1", "name", "2000 bytes", "at most 1000"}}),
    [](const testing::TestParamInfo<HostileConfig>& info) {
      std::string name = info.param.file;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST(ConfigFile, DeepNestingIsRefusedNotAStackOverflow) {
  TempConfig json_file("deep.json", std::string(100000, '['));
  expect_refused(json_file.path(), {"deep.json", "depth"});
  TempConfig yaml_file("deep.yaml", std::string(100000, '['));
  expect_refused(yaml_file.path(), {"deep.yaml", "YAML"});
}

TEST(ConfigFile, AnEndlessOrHugeFileIsRefusedWithoutReadingItAll) {
  expect_refused("/dev/zero", {"/dev/zero", "larger than 16777216 bytes"});
  TempConfig big("big.json", "[" + std::string(17 * 1024 * 1024, ' ') + "]");
  expect_refused(big.path(), {"big.json", "larger than"});
}

TEST(ConfigFile, UnreadableFileStopsStartUp) {
  expect_refused("/nonexistent/faultline/proxies.json", {"/nonexistent/faultline/proxies.json", "No such file"});
  if (::geteuid() != 0) {  // root reads anything
    TempConfig file("locked.json", "[]");
    ::chmod(file.path().c_str(), 0);
    expect_refused(file.path(), {file.path(), "Permission denied"});
  }
}

TEST(ConfigFile, AListenAddressThatIsTakenNamesTheEntry) {
  // Another program holds the port: start-up fails, naming the proxy.
  TestUpstream holder;
  const std::string config = R"([{"name": "fine", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"},
                                 {"name": "clash", "listen": "127.0.0.1:)" + std::to_string(holder.port()) +
                             R"(", "upstream": "127.0.0.1:9"}])";
  TempConfig file("clash.json", config);
  expect_refused(file.path(), {"proxy #2", "\"clash\"", "listen", std::to_string(holder.port()), "address already in use"},
                 false);
}

// ---- The files in examples/ ----------------------------------------------

std::string examples_dir() { return std::string(FAULTLINE_SOURCE_DIR) + "/examples"; }

// The examples listen on fixed ports (26000, 26001); the tests move them to
// free ones so that they never clash with anything else on the machine.
TempConfig example_on_free_ports(const std::string& name) {
  std::string text = read_text(examples_dir() + "/" + name);
  EXPECT_FALSE(text.empty()) << name;
  text = replace_all(text, "127.0.0.1:26000", "127.0.0.1:" + std::to_string(free_port()));
  text = replace_all(text, "127.0.0.1:26001", "127.0.0.1:" + std::to_string(free_port()));
  return TempConfig(name, text);
}

TEST(ConfigExamples, DemoJsonAndYamlDescribeTheSameProxies) {
  for (const char* name : {"demo.json", "demo.yaml"}) {
    SCOPED_TRACE(name);
    TempConfig file = example_on_free_ports(name);
    ServerProcess server({.args = {"-config", file.path()}});
    const json proxies = proxies_of(server);
    ASSERT_EQ(proxies.size(), 2u) << proxies.dump();
    EXPECT_EQ(proxies["demo_http"]["upstream"], "127.0.0.1:26080");
    EXPECT_EQ(proxies["demo_echo"]["upstream"], "127.0.0.1:26007");
    EXPECT_TRUE(proxies["demo_http"]["enabled"].get<bool>());
    EXPECT_TRUE(proxies["demo_echo"]["enabled"].get<bool>());
  }
  // The untouched files name the documented addresses.
  const json demo = json::parse(read_text(examples_dir() + "/demo.json"));
  EXPECT_EQ(demo[0]["listen"], "127.0.0.1:26000");
  EXPECT_EQ(demo[1]["listen"], "127.0.0.1:26001");
}

TEST(ConfigExamples, WithToxicsCreatesEveryToxic) {
  const json declared = json::parse(read_text(examples_dir() + "/with-toxics.json"));
  TempConfig file = example_on_free_ports("with-toxics.json");
  ServerProcess server({.args = {"-config", file.path()}});
  const json proxies = proxies_of(server);
  ASSERT_EQ(proxies.size(), declared.size());
  for (const auto& entry : declared) {
    const std::string name = entry["name"];
    ASSERT_TRUE(proxies.contains(name)) << name;
    EXPECT_EQ(proxies[name]["toxics"].size(), entry["toxics"].size()) << name;
  }
}

// Each invalid example and a fragment its refusal must contain. Every file in
// examples/invalid/ must be listed here.
const std::map<std::string, std::vector<std::string>> kInvalidExamples = {
    {"missing-upstream.json", {"proxy #1", "\"no_upstream\"", "upstream", "required"}},
    {"listen-without-port.json", {"proxy #1", "\"no_port\"", "listen", "\"127.0.0.1\"", "missing port"}},
    {"port-out-of-range.yaml", {"proxy #1", "\"big_port\"", "listen", "99999", "invalid port"}},
    {"unknown-toxic-type.json", {"proxy #1", "\"bad_toxic\"", "toxic #1", "type", "\"lag\"", "must be one of"}},
    {"fractional-attribute.json", {"proxy #1", "\"half_ms\"", "attributes.latency", "2.5", "whole number"}},
    {"duplicate-names.json", {"proxy #2", "\"twin\"", "name", "same name"}},
    {"not-a-list.json", {"list (array) of proxies", "object"}},
    {"malformed.json", {"malformed.json", "not valid JSON"}},
};

TEST(ConfigExamples, EveryInvalidExampleIsRefusedWithItsMessage) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(examples_dir() + "/invalid")) found.push_back(entry.path().filename());
  ASSERT_FALSE(found.empty());
  for (const auto& name : found) {
    SCOPED_TRACE(name);
    auto it = kInvalidExamples.find(name);
    ASSERT_NE(it, kInvalidExamples.end()) << "no expected message for examples/invalid/" << name;
    expect_refused(examples_dir() + "/invalid/" + name, it->second);
  }
  EXPECT_EQ(found.size(), kInvalidExamples.size()) << "an expected invalid example is missing";
}

}  // namespace
}  // namespace faultline::test
