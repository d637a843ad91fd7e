// Chaos Toolkit experiments in process: reading and checking files (errors
// name their path in the document), values and ${} substitution, and every
// tolerance form, met and not met.
#include <gtest/gtest.h>

#include <cstdlib>

#include "experiment/Experiment.h"
#include "experiment/Tolerance.h"
#include "experiment/Variables.h"

namespace faultline::experiment {
namespace {

std::string error_of(const std::string& text, bool yaml = false) {
  try {
    parse_experiment(text, "x.json", yaml);
  } catch (const ExperimentError& e) {
    return e.what();
  }
  return "";
}

const char* kProbe = R"({"type":"probe","name":"up","provider":{"type":"http","url":"http://127.0.0.1:1/"},"tolerance":200})";

TEST(Experiment, ReadsJsonAndYamlAndResolvesRefs) {
  const std::string json = std::string(R"({"title":"t","steady-state-hypothesis":{"title":"h","probes":[)") + kProbe +
                           R"(]},"method":[{"ref":"up"},{"type":"action","name":"a","provider":{"type":"process","path":"true"}}],
                              "rollbacks":[{"ref":"a"}]})";
  const Experiment e = parse_experiment(json, "x.json", false);
  EXPECT_EQ(e.title, "t");
  ASSERT_EQ(e.method.size(), 2u);
  EXPECT_EQ(e.method[0]["name"], "up");
  EXPECT_EQ(e.rollbacks.at(0)["name"], "a");
  const Experiment y = parse_experiment("title: y\nmethod:\n  - type: action\n    name: b\n    provider: {type: process, path: 'true'}\n",
                                        "x.yaml", true);
  EXPECT_EQ(y.method.at(0)["provider"]["path"], "true");
}

TEST(Experiment, ProblemsAreNamedByTheirPathInTheDocument) {
  EXPECT_NE(error_of("{}").find("title: is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"title":"t"})").find("method: is required"), std::string::npos);
  EXPECT_NE(error_of(R"({"title":"t","method":[{"type":"action","name":"a","provider":{"type":"http"}}]})")
                .find("method[0].provider.url: is required"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"title":"t","method":[{"type":"actoin","name":"a","provider":{"type":"http"}}]})").find("method[0].type"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"title":"t","method":[{"type":"action","name":"a","provider":{"type":"java"}}]})")
                .find("\"java\" is not a provider (allowed: http, process, python, faultline)"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"title":"t","method":[{"ref":"nothing"}]})").find("method[0].ref: no activity named \"nothing\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"title":"t","steady-state-hypothesis":{"probes":[{"type":"probe","name":"p","provider":{"type":"process","path":"x"}}]},"method":[]})")
                .find("probes[0].tolerance: is required"),
            std::string::npos);
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
}

TEST(ExperimentValues, ConfigurationEnvVarsAndOverrides) {
  ::setenv("FAULTLINE_TEST_PORT", "8474", 1);
  ::unsetenv("FAULTLINE_TEST_UNSET");
  Experiment e = parse_experiment(R"({"title":"t","method":[],"configuration":{
      "host":"localhost","port":{"type":"env","key":"FAULTLINE_TEST_PORT","env_var_type":"int"},
      "missing":{"type":"env","key":"FAULTLINE_TEST_UNSET","default":"fallback"}}})", "x.json", false);
  Json values = resolve_values(e, Json::object());
  EXPECT_EQ(values["port"], 8474);
  EXPECT_EQ(values["missing"], "fallback");
  values = resolve_values(e, Json{{"host", "127.0.0.1"}});
  EXPECT_EQ(values["host"], "127.0.0.1");
  e.configuration["strict"] = Json{{"type", "env"}, {"key", "FAULTLINE_TEST_UNSET"}};
  try {
    resolve_values(e, Json::object());
    FAIL() << "an unset variable without a default is an error";
  } catch (const ExperimentError& error) {
    EXPECT_NE(std::string(error.what()).find("configuration.strict"), std::string::npos);
  }
}

TEST(ExperimentValues, VarsAreTypedAndSubstitutionKeepsTypes) {
  EXPECT_EQ(parse_var("n:int=3").second, 3);
  EXPECT_EQ(parse_var("x:float=0.5").second, 0.5);
  EXPECT_EQ(parse_var("s=007").second, "007");
  EXPECT_EQ(parse_var("b:bool=true").second, true);
  EXPECT_THROW(parse_var("n:int=three"), ExperimentError);
  EXPECT_THROW(parse_var("novalue"), ExperimentError);
  EXPECT_THROW(parse_var("k:date=1"), ExperimentError);
  const Json values = {{"port", 8474}, {"host", "localhost"}};
  EXPECT_EQ(substitute(Json("${port}"), values), 8474);
  EXPECT_EQ(substitute(Json("http://${host}:${port}/x"), values), "http://localhost:8474/x");
  EXPECT_EQ(substitute(Json("${unknown}"), values), "${unknown}");
  EXPECT_EQ(substitute(Json{{"a", {"${host}", 1}}}, values), (Json{{"a", {"localhost", 1}}}));
}

TEST(ExperimentTolerance, AnObjectWhoseTypeIsNotAStringIsAClearErrorNotACrash) {
  // Found by the experiment_files fuzzer: `tolerance: {type: , ...}` in YAML
  // (a null type) ended the runner with an uncaught JSON type error.
  for (const char* text : {R"({"type":null,"range":[0,50]})", R"({"type":7})", R"({"type":["probe"]})"}) {
    const Json tolerance = Json::parse(text);
    EXPECT_FALSE(is_probe_tolerance(tolerance)) << text;
    EXPECT_THROW((void)check_tolerance(tolerance, Json(3)), ExperimentError) << text;
  }
  EXPECT_TRUE(is_probe_tolerance(Json::parse(R"({"type":"probe","provider":{}})")));
}

TEST(ExperimentTolerance, EveryFormMetAndNotMet) {
  const Json http = {{"status", 200}, {"body", {{"items", {{{"ok", true}}, {{"ok", true}}}}, {"name", "db"}}}};
  EXPECT_TRUE(check_tolerance(200, http).met) << "a number compares the status";
  EXPECT_FALSE(check_tolerance(500, http).met);
  EXPECT_TRUE(check_tolerance(true, Json(true)).met);
  EXPECT_FALSE(check_tolerance(true, Json(false)).met);
  EXPECT_TRUE(check_tolerance("db", Json("db")).met);
  EXPECT_TRUE(check_tolerance(Json::array({200, 299}), http).met) << "two numbers: a range";
  EXPECT_FALSE(check_tolerance(Json::array({300, 399}), http).met);
  EXPECT_TRUE(check_tolerance(Json::array({200, 201, 204}), http).met) << "a longer list: membership";
  EXPECT_FALSE(check_tolerance(Json::array({201, 202, 204}), http).met);
  EXPECT_TRUE(check_tolerance(Json{{"type", "regex"}, {"pattern", "PONG"}, {"target", "stdout"}}, Json{{"status", 0}, {"stdout", "+PONG\n"}}).met);
  EXPECT_FALSE(check_tolerance(Json{{"type", "regex"}, {"pattern", "^x"}, {"target", "stdout"}}, Json{{"stdout", "y"}}).met);
  EXPECT_TRUE(check_tolerance(Json{{"type", "range"}, {"range", {0, 50}}, {"target", "p99"}}, Json{{"p99", 12.5}}).met);
  EXPECT_FALSE(check_tolerance(Json{{"type", "range"}, {"range", {0, 10}}, {"target", "p99"}}, Json{{"p99", 12.5}}).met);
  EXPECT_TRUE(check_tolerance(Json{{"type", "jsonpath"}, {"path", "$.items[*].ok"}, {"expect", true}, {"target", "body"}}, http).met);
  EXPECT_FALSE(check_tolerance(Json{{"type", "jsonpath"}, {"path", "$.name"}, {"expect", "cache"}, {"target", "body"}}, http).met);
  EXPECT_TRUE(check_tolerance(Json{{"type", "jsonpath"}, {"path", "$..ok"}, {"target", "body"}}, http).met);
  EXPECT_THROW(check_tolerance(Json{{"type", "sql"}}, http), ExperimentError);
  EXPECT_THROW(check_tolerance(Json{{"type", "regex"}, {"pattern", "("}}, http), ExperimentError);
  // A megabyte of output and a pattern that makes a backtracking engine
  // recurse per character: answered, not a stack overflow.
  const Json big{{"stdout", std::string(1 << 20, 'a') + "b"}};
  EXPECT_TRUE(check_tolerance(Json{{"type", "regex"}, {"pattern", "^(a|aa)*b$"}, {"target", "stdout"}}, big).met);
  EXPECT_FALSE(check_tolerance(Json{{"type", "regex"}, {"pattern", "^(a|b)*c"}, {"target", "stdout"}}, big).met);
}

TEST(ExperimentTolerance, JsonPathSubset) {
  const Json doc = Json::parse(R"({"a":{"b":[{"c":1},{"c":2}],"d":"x"},"e":[10,20,30]})");
  EXPECT_EQ(json_path(doc, "$.a.b[1].c"), std::vector<Json>{2});
  EXPECT_EQ(json_path(doc, "$.e[-1]"), std::vector<Json>{30});
  EXPECT_EQ(json_path(doc, "$['a']['d']"), std::vector<Json>{"x"});
  EXPECT_EQ(json_path(doc, "$..c").size(), 2u);
  EXPECT_TRUE(json_path(doc, "$.nothing").empty());
  EXPECT_THROW(json_path(doc, "a.b"), ExperimentError);
}

}  // namespace
}  // namespace faultline::experiment
