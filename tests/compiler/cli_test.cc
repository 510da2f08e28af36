// The amlc binary as a user runs it: exit codes, stdout/stderr, --json.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;

TEST_CASE("amlc validate exits 0 on the quickstart and 1 on spec errors", "[cli]") {
  std::string out;
  CHECK(Run(Amlc("validate " + SourcePath("examples/quickstart")), &out) == 0);
  CHECK(out.find("9 resources in 10 files, no problems") != std::string::npos);
  CHECK(Run(Amlc("validate " + SourcePath("tests/fixtures/five-mistakes") + " 2>/dev/null"), &out) == 1);
  CHECK(out.find("5 errors") != std::string::npos);
}

TEST_CASE("usage errors exit 2", "[cli]") {
  CHECK(Run(Amlc("validate /no/such/dir 2>/dev/null")) == 2);
  CHECK(Run(Amlc("frobnicate 2>/dev/null")) == 2);
  CHECK(Run(Amlc("graph --format png " + SourcePath("examples/quickstart") + " 2>/dev/null")) == 2);
  CHECK(Run(Amlc("--help >/dev/null")) == 0);
}

TEST_CASE("amlc validate --json gives the diagnostics as data", "[cli]") {
  std::string out;
  CHECK(Run(Amlc("validate --json " + SourcePath("tests/fixtures/five-mistakes")), &out) == 1);
  CHECK(out.find("\"valid\":false") != std::string::npos);
  CHECK(out.find("\"errors\":5") != std::string::npos);
  CHECK(out.find("\"code\":\"unknown-field\"") != std::string::npos);
  CHECK(out.find("\"line\":3,\"column\":1,\"end_line\":3,\"end_column\":7") != std::string::npos);
  CHECK(out.find("\"message\":\"first defined here\"") != std::string::npos);
}

TEST_CASE("amlc graph prints JSON and DOT that Graphviz renders", "[cli]") {
  std::string json;
  CHECK(Run(Amlc("graph " + SourcePath("examples/quickstart")), &json) == 0);
  CHECK(json.find("{\"id\":\"job/train-iris\"") != std::string::npos);
  CHECK(json.find("\"order\":[\"workspace/quickstart\"") != std::string::npos);
  std::string svg;
  CHECK(Run(Amlc("graph --format dot " + SourcePath("examples/quickstart") + " | dot -Tsvg"), &svg) == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("train&#45;iris") != std::string::npos);
}

TEST_CASE("amlc graph prints nothing on stdout for specs with errors", "[cli]") {
  std::string out;
  CHECK(Run(Amlc("graph " + SourcePath("tests/fixtures/five-mistakes") + " 2>/dev/null"), &out) == 1);
  CHECK(out.empty());
}
