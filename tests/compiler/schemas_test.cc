#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "compiler/sema/schema.h"
#include "tests/test_support.h"

using namespace amlc::compiler::sema;
using amlc::testing::SourcePath;
namespace fs = std::filesystem;

TEST_CASE("every schema file in specs/ is compiled into amlc byte for byte", "[schemas]") {
  std::set<std::string> embedded;
  for (const auto& [name, text] : EmbeddedSpecFiles()) {
    std::ifstream in(SourcePath("specs/" + name));
    std::stringstream on_disk;
    on_disk << in.rdbuf();
    INFO(name);
    CHECK(on_disk.str() == text);
    embedded.insert(name);
  }
  for (const auto& entry : fs::directory_iterator(SourcePath("specs"))) {
    if (entry.path().extension() == ".json") CHECK(embedded.count(entry.path().filename().string()));
  }
}

TEST_CASE("the schema registry knows every kind the issue lists", "[schemas]") {
  const SchemaRegistry& registry = SchemaRegistry::Builtin();
  std::vector<std::string> kinds = registry.KindNames();
  for (const char* kind : {"workspace", "datastore", "compute", "environment", "data", "experiment",
                           "job", "component", "model", "image", "endpoint", "deployment",
                           "reconciler", "schedule"}) {
    INFO(kind);
    CHECK(std::find(kinds.begin(), kinds.end(), kind) != kinds.end());
  }
  CHECK(registry.FindBySchemaName("commandJob")->type == "command");
  CHECK(registry.FindBySchemaName("SWEEPJOB")->type == "sweep");
  CHECK(registry.FindByType("pipeline")->kind == "job");
  CHECK(registry.FindByKind("job", "")->type == "command");
  CHECK(registry.FindUnsupported("batchEndpoint") != nullptr);
}

TEST_CASE("every field of every kind has a description for the reference pages", "[schemas]") {
  for (const KindSchema& kind : SchemaRegistry::Builtin().kinds()) {
    for (const auto& [name, field] : kind.root->properties) {
      INFO(kind.file << ": " << name);
      CHECK((!field->description.empty() || !field->unsupported.empty() || name == "$schema" ||
             !field->one_of.empty()));
    }
  }
}
