#include <catch2/catch.hpp>

#include "compiler/frontend/dsl/dsl_parser.h"
#include "compiler/frontend/yaml/yaml_loader.h"
#include "tests/test_support.h"

using namespace amlc::compiler;
using amlc::testing::CompileFiles;
using amlc::testing::ErrorLocations;
using amlc::testing::Rendered;

TEST_CASE("YAML syntax errors are reported with their location", "[frontend]") {
  auto c = CompileFiles({{"bad.yaml", "name: x\ntype: [command\n"}});
  REQUIRE(c->diagnostics.error_count() == 1);
  CHECK(Rendered(*c).find("bad.yaml:3:1: error: invalid YAML") != std::string::npos);
}

TEST_CASE("YAML placeholders that are not YAML yet are syntax errors and not crashes", "[frontend]") {
  auto c = CompileFiles({{"d.yml", "name: {{ENDPOINT_NAME}}\nendpoint_name: {{X}}\n"}});
  REQUIRE(c->diagnostics.has_errors());
  CHECK(c->diagnostics.diagnostics()[0].code == DiagCode::kSyntax);
}

TEST_CASE("YAML duplicate keys are reported with the first one", "[frontend]") {
  auto c = CompileFiles({{"c.yaml", "$schema: ../compute.schema.json\nname: a\nname: b\ntype: local\n"}});
  std::string text = Rendered(*c);
  CHECK(text.find("c.yaml:3:1: error: duplicate key 'name'") != std::string::npos);
  CHECK(text.find("c.yaml:2:1: note: first given here") != std::string::npos);
}

TEST_CASE("several YAML documents in one file are several specs", "[frontend]") {
  auto c = CompileFiles({{"all.yaml",
                          "$schema: compute.schema.json\nname: a\ntype: local\n---\n"
                          "$schema: compute.schema.json\nname: b\ntype: slurm\n"}});
  CHECK_FALSE(c->diagnostics.has_errors());
  CHECK(c->graph.size() == 2);
}

TEST_CASE("deeply nested input is refused before the parser recurses", "[frontend]") {
  std::string deep_yaml = "a: " + std::string(500, '[') + std::string(500, ']') + "\n";
  std::string deep_dsl = "job \"x\" { a = " + std::string(500, '[') + std::string(500, ']') + " }\n";
  auto c = CompileFiles({{"deep.yaml", deep_yaml}, {"deep.aml", deep_dsl}});
  std::vector<std::string> errors = ErrorLocations(*c);
  CHECK(errors == std::vector<std::string>{"deep.aml:1:78: limit", "deep.yaml:1:68: limit"});
}

TEST_CASE("DSL syntax errors point at the offending token", "[frontend]") {
  auto c = CompileFiles({{"x.aml", "compute \"a\" {\n  type = local\n  max_concurrent 2\n}\n"}});
  REQUIRE(c->diagnostics.has_errors());
  CHECK(ErrorLocations(*c)[0] == "x.aml:3:18: syntax");
}

TEST_CASE("DSL interpolation ${x} is spelled as YAML's ${{x}}", "[frontend]") {
  CHECK(dsl::NormalizeInterpolation("run ${inputs.C} and ${{outputs.m}}") ==
        "run ${{inputs.C}} and ${{outputs.m}}");
  CHECK(dsl::NormalizeInterpolation("cost: $5 {x}") == "cost: $5 {x}");
}

TEST_CASE("DSL blocks carry kind and label and nested blocks and lists and references", "[frontend]") {
  SourceManager sources;
  DiagnosticEngine diagnostics;
  FileId file = sources.AddBuffer(
      "m.aml",
      "model \"iris\" {\n  path = job.train.outputs.model  // a reference\n"
      "  tags { a = \"1\", b = 2 }\n  list = [1, \"two\", true]\n  note = \"\"\"multi\nline\"\"\"\n}\n");
  auto documents = dsl::ParseDsl(sources, file, diagnostics);
  REQUIRE_FALSE(diagnostics.has_errors());
  REQUIRE(documents.size() == 1);
  const ast::Node& body = documents[0].body;
  CHECK(documents[0].dsl_kind == "model");
  CHECK(body.ScalarAt("name") == "iris");
  CHECK(body.Find("path")->kind == ast::NodeKind::kReference);
  CHECK(body.Find("path")->text == "job.train.outputs.model");
  CHECK(body.Find("tags")->entries.size() == 2);
  CHECK(body.Find("list")->items.size() == 3);
  CHECK(body.ScalarAt("note") == "multi\nline");
}

TEST_CASE("invalid UTF-8 in a DSL file is an error and not a crash", "[frontend]") {
  auto c = CompileFiles({{"bad.aml", "job \"x\" { command = \"\xff\xfe\" }\n"}});
  CHECK(c->diagnostics.has_errors());
}

TEST_CASE("a stray comma is a YAML error and not an endless loop in yaml-cpp", "[frontend]") {
  for (const char* text : {",", "[a],", "\"a\",", "- a\n,", "a: 1\n---\n,"}) {
    auto c = CompileFiles({{"stray.yaml", text}});
    INFO(text);
    REQUIRE(c->diagnostics.error_count() == 1);
    CHECK(c->diagnostics.diagnostics()[0].code == DiagCode::kSyntax);
  }
}
