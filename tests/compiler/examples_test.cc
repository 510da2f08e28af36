#include <catch2/catch.hpp>

#include <filesystem>

#include "compiler/ir/graph.h"
#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

TEST_CASE("every example compiles with no problem at all", "[examples]") {
  for (const auto& entry : fs::directory_iterator(SourcePath("examples"))) {
    if (!entry.is_directory()) continue;
    auto c = CompilePath(entry.path().string());
    INFO(entry.path().string() << "\n" << Rendered(*c));
    CHECK(c->diagnostics.diagnostics().empty());
    CHECK(c->graph.size() > 0);
  }
}

TEST_CASE("a YAML example and its DSL twin compile to the identical graph", "[examples]") {
  int twins = 0;
  for (const auto& entry : fs::directory_iterator(SourcePath("examples"))) {
    std::string name = entry.path().filename().string();
    if (name.size() < 4 || name.substr(name.size() - 4) != "-dsl") continue;
    std::string yaml_twin = entry.path().parent_path() / name.substr(0, name.size() - 4);
    auto dsl = CompilePath(entry.path().string());
    auto yaml = CompilePath(yaml_twin);
    REQUIRE_FALSE(dsl->diagnostics.has_errors());
    REQUIRE_FALSE(yaml->diagnostics.has_errors());
    CHECK(amlc::compiler::ir::GraphToJson(dsl->graph) == amlc::compiler::ir::GraphToJson(yaml->graph));
    ++twins;
  }
  CHECK(twins >= 1);
}

TEST_CASE("the quickstart declares every kind of its pipeline from workspace to deployment", "[examples]") {
  auto c = CompilePath(SourcePath("examples/quickstart"));
  for (const char* id : {"workspace/quickstart", "compute/local", "environment/sklearn-env:1",
                         "experiment/iris", "job/train-iris", "model/iris-classifier",
                         "image/iris-image", "endpoint/iris", "deployment/blue"}) {
    INFO(id);
    CHECK(c->graph.Find(id));
  }
}
