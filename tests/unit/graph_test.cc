#include <catch2/catch.hpp>

#include "compiler/ir/graph.h"

using namespace amlc::compiler::ir;

namespace {
Resource Named(const std::string& kind, const std::string& name) {
  Resource r;
  r.kind = kind;
  r.name = name;
  r.spec = Value::EmptyMap();
  return r;
}
}  // namespace

TEST_CASE("topological order puts dependencies first and breaks ties by id", "[ir]") {
  Graph graph;
  size_t job = graph.AddResource(Named("job", "train"));
  size_t model = graph.AddResource(Named("model", "m"));
  size_t compute = graph.AddResource(Named("compute", "local"));
  size_t env = graph.AddResource(Named("environment", "e"));
  graph.AddDependency(model, job, "path", {});
  graph.AddDependency(job, compute, "compute", {});
  graph.AddDependency(job, env, "environment", {});
  graph.AddDependency(job, env, "environment", {});  // kept once
  CHECK(graph.dependencies().size() == 3);
  std::vector<std::string> ids;
  for (size_t i : graph.TopologicalOrder()) ids.push_back(graph.resource(i).id());
  CHECK(ids == std::vector<std::string>{"compute/local", "environment/e", "job/train", "model/m"});
  CHECK(graph.FindCycles().empty());
}

TEST_CASE("a cycle is found as the path of edges around it", "[ir]") {
  Graph graph;
  size_t a = graph.AddResource(Named("job", "a"));
  size_t b = graph.AddResource(Named("job", "b"));
  size_t c = graph.AddResource(Named("job", "c"));
  size_t d = graph.AddResource(Named("job", "d"));
  graph.AddDependency(a, b, "x", {});
  graph.AddDependency(b, c, "x", {});
  graph.AddDependency(c, a, "x", {});
  graph.AddDependency(d, a, "x", {});
  auto cycles = graph.FindCycles();
  REQUIRE(cycles.size() == 1);
  REQUIRE(cycles[0].size() == 3);
  std::string path = graph.resource(graph.dependencies()[cycles[0][0]].from).id();
  for (size_t e : cycles[0]) path += " -> " + graph.resource(graph.dependencies()[e].to).id();
  CHECK(path == "job/a -> job/b -> job/c -> job/a");
}

TEST_CASE("digests change with the desired state and only with it", "[ir]") {
  Graph one;
  Resource r = Named("compute", "local");
  r.spec.Set("type", Value::String("local"));
  one.AddResource(r);
  one.ComputeDigests();
  Graph two;
  two.AddResource(r);
  two.ComputeDigests();
  CHECK(one.resource(0).digest == two.resource(0).digest);
  CHECK(one.resource(0).digest.size() == 64);
  r.spec.Set("max_concurrent", Value::Int(2));
  Graph three;
  three.AddResource(r);
  three.ComputeDigests();
  CHECK(three.resource(0).digest != one.resource(0).digest);
}
