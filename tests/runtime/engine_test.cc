// The planner and executor driven by hand with the fake driver: what runs,
// in which order, how many at once, and what a failure or a dry run leaves.
#include <catch2/catch.hpp>

#include <algorithm>

#include "runtime/engine/applier.h"
#include "tests/test_support.h"
#include "tests/runtime/fake_driver.h"

using amlc::compiler::ir::Graph;
using amlc::compiler::ir::Ref;
using amlc::compiler::ir::Resource;
using amlc::compiler::ir::Value;
using amlc::compiler::planner::ActionType;
using amlc::compiler::planner::Plan;
using amlc::runtime::ActionResult;
using amlc::runtime::Outcome;
using amlc::testing::FakeDriver;

namespace {

// Counts what the executor reports, as the terminal display would.
struct CountingReporter : amlc::runtime::ProgressReporter {
  void Started(size_t, const amlc::compiler::planner::Action&) override { ++started; }
  void Progress(size_t, const std::string&) override {}
  void Finished(size_t, const amlc::compiler::planner::Action&, const ActionResult&, double) override { ++finished; }
  int started = 0;
  int finished = 0;
};

// A graph built by hand: resources and "needs" edges, digests filled.
class GraphBuilder {
 public:
  size_t Add(const std::string& kind, const std::string& name, Value spec = Value::EmptyMap(),
             const std::string& type = "") {
    Resource r;
    r.kind = kind;
    r.type = type.empty() && kind == "job" ? "command" : type;
    r.name = name;
    r.spec = std::move(spec);
    return graph.AddResource(std::move(r));
  }
  void Needs(size_t from, size_t to) { graph.AddDependency(from, to, "inputs", {}); }
  Graph& Done() {
    graph.ComputeDigests();
    return graph;
  }
  Graph graph;
};

Value OnCompute(const std::string& compute) {
  Value spec = Value::EmptyMap();
  spec.Set("compute", Value::Reference(Ref{compute, "", false}));
  return spec;
}

struct Engine {
  Engine(const Graph& graph) : dir(), workspace(std::move(amlc::runtime::Workspace::Open(dir.str() + "/.amlc").value())),
                               applier(*workspace, graph, dir.str(), amlc::testing::AllKindsTo(driver)) {}
  Plan MakePlan(const Graph& graph) {
    std::vector<std::string> errors;
    Plan plan = amlc::compiler::planner::MakePlan(graph, applier, {}, errors);
    REQUIRE(errors.empty());
    return plan;
  }
  size_t Index(const Plan& plan, const std::string& id) {
    for (size_t i = 0; i < plan.actions.size(); ++i) {
      if (plan.actions[i].resource_id == id) return i;
    }
    FAIL("no action for " << id);
    return 0;
  }
  amlc::testing::SpecDir dir;
  FakeDriver driver;
  std::unique_ptr<amlc::runtime::Workspace> workspace;
  amlc::runtime::Applier applier;
};

}  // namespace

TEST_CASE("a failed action skips exactly its dependants, transitively", "[engine]") {
  GraphBuilder g;
  size_t prep = g.Add("job", "prep");
  size_t train = g.Add("job", "train");
  size_t score = g.Add("job", "score");
  size_t other = g.Add("job", "other");
  size_t model = g.Add("model", "iris");
  g.Needs(train, prep);
  g.Needs(score, train);
  g.Needs(model, score);
  const Graph& graph = g.Done();
  Engine engine(graph);
  engine.driver.fail = {"job/prep"};
  Plan plan = engine.MakePlan(graph);
  REQUIRE(plan.actions.size() == 5);
  CHECK(plan.actions[engine.Index(plan, "job/train")].known_after_apply);
  CountingReporter reporter;
  std::vector<ActionResult> results = engine.applier.Execute(plan, reporter, 4, "apply-test");
  CHECK(results[engine.Index(plan, "job/prep")].outcome == Outcome::kFailed);
  CHECK(results[engine.Index(plan, "job/prep")].message == "job/prep failed on purpose");
  for (const char* id : {"job/train", "job/score", "model/iris"}) {
    CHECK(results[engine.Index(plan, id)].outcome == Outcome::kSkipped);
    CHECK(results[engine.Index(plan, id)].message == "skipped: job/prep failed");
  }
  CHECK(results[engine.Index(plan, "job/other")].outcome == Outcome::kSucceeded);
  std::vector<std::string> applied = engine.driver.applied();
  std::sort(applied.begin(), applied.end());
  CHECK(applied == std::vector<std::string>{"job/other", "job/prep"});
  CHECK(reporter.started == 2);
  CHECK(reporter.finished == 5);
  (void)other;
  (void)model;
}

TEST_CASE("a pool of 1 serialises the runs on its compute target, without one they overlap", "[engine]") {
  for (bool limited : {true, false}) {
    GraphBuilder g;
    Value compute = Value::EmptyMap();
    if (limited) compute.Set("max_concurrent", Value::Int(1));
    size_t cpu = g.Add("compute", "cpu", compute, "local");
    for (const char* name : {"a", "b", "c"}) g.Needs(g.Add("job", name, OnCompute("compute/cpu")), cpu);
    const Graph& graph = g.Done();
    Engine engine(graph);
    engine.driver.millis = 150;
    Plan plan = engine.MakePlan(graph);
    CHECK(plan.actions[engine.Index(plan, "job/a")].pool == "compute/cpu");
    CHECK(plan.pools.count("compute/cpu") == (limited ? 1u : 0u));
    CountingReporter reporter;
    std::vector<ActionResult> results = engine.applier.Execute(plan, reporter, 4, "apply-test");
    for (const ActionResult& r : results) CHECK(r.outcome == Outcome::kSucceeded);
    if (limited) {
      CHECK(engine.driver.max_running() == 1);
    } else {
      CHECK(engine.driver.max_running() > 1);  // the three 150 ms runs overlap when nothing serialises them
    }
  }
}

TEST_CASE("a dry run walks the plan in order and changes nothing", "[engine]") {
  GraphBuilder g;
  size_t env = g.Add("environment", "sk");
  size_t job = g.Add("job", "train");
  g.Needs(job, env);
  g.Needs(g.Add("model", "iris"), job);
  const Graph& graph = g.Done();
  Engine engine(graph);
  Plan plan = engine.MakePlan(graph);
  REQUIRE(plan.actions.size() == 3);
  CHECK(plan.actions[0].type == ActionType::kCreate);
  amlc::runtime::DryRunRunner dry_run;
  CountingReporter reporter;
  amlc::runtime::ExecuteOptions options;
  options.parallelism = 2;
  std::vector<ActionResult> results = amlc::runtime::ExecutePlan(plan, dry_run, reporter, options);
  REQUIRE(results.size() == 3);
  for (const ActionResult& r : results) {
    CHECK(r.outcome == Outcome::kSucceeded);
    CHECK(r.message == "dry run");
  }
  CHECK(reporter.finished == 3);
  CHECK(engine.driver.applied().empty());
  CHECK(engine.workspace->state().ListResources()->empty());
  CHECK(engine.workspace->state().ListActivities(100)->empty());
  std::string rows;
  REQUIRE(amlc::testing::Run("python3 -c \"import sqlite3; c = sqlite3.connect('" + engine.workspace->home() +
                                 "/state.db'); print(sum(c.execute('select count(*) from ' + t).fetchone()[0] "
                                 "for t in ('journal', 'resources', 'activities', 'runs')))\"",
                             &rows) == 0);
  CHECK(rows == "0\n");
  // The same plan applied for real goes through the driver, and is recorded.
  std::vector<ActionResult> real = engine.applier.Execute(plan, reporter, 2, "apply-real");
  CHECK(engine.driver.applied().size() == 3);
  CHECK(engine.workspace->state().ListActivities(100)->size() == 3);
  REQUIRE(amlc::testing::Run("python3 -c \"import sqlite3; c = sqlite3.connect('" + engine.workspace->home() +
                                 "/state.db'); print(c.execute(\\\"select count(*) from journal where apply_id = "
                                 "'apply-real'\\\").fetchone()[0])\"",
                             &rows) == 0);
  CHECK(rows == "6\n");  // begin and end of each action
}
