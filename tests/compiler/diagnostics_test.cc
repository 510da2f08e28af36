// The acceptance example: five distinct mistakes across two files
// (YAML and DSL) give exactly five errors, at the right lines and columns.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;

TEST_CASE("five mistakes across two files give exactly five errors", "[diagnostics]") {
  auto c = CompilePath(SourcePath("tests/fixtures/five-mistakes"));
  REQUIRE(c);
  CHECK(ErrorLocations(*c) == std::vector<std::string>{
                                  "a.yaml:3:1: unknown-field",
                                  "a.yaml:7:19: invalid-value",
                                  "b.aml:3:5: duplicate",
                                  "b.aml:9:13: dangling-reference",
                                  "b.aml:10:22: invalid-value",
                              });
  std::string text = Rendered(*c);
  CHECK(text.find("unknown field 'comand' (did you mean 'command'?)") != std::string::npos);
  CHECK(text.find("'resources.instance_count' must be at least 1, not -2") != std::string::npos);
  CHECK(text.find("a.yaml:2:7: note: first defined here") != std::string::npos);
  CHECK(text.find("compute 'gpu' is not defined") != std::string::npos);
  CHECK(text.find("malformed duration '5 minutes'") != std::string::npos);
  // The caret line underlines the whole offending value.
  CHECK(text.find("    compute = compute.gpu\n              ^~~~~~~~~~~\n") != std::string::npos);
}
