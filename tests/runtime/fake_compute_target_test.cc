// Adding a compute type is one class implementing ComputeTarget and one
// Register line: here a fake `slurm` target, registered in place of the
// built-in one, takes the jobs that name it,
// through the whole plan and apply.
#include <catch2/catch.hpp>

#include "runtime/compute/compute_target.h"
#include "runtime/engine/session.h"
#include "tests/test_support.h"

using namespace amlc;
using namespace amlc::runtime;

namespace {

class FakeTarget : public ComputeTarget {
 public:
  explicit FakeTarget(Workspace& workspace) : workspace_(workspace) {}

  void Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) override {
    commands.push_back(request.command);
    progress("queued on the fake cluster");
    run.status = RunStatus::kCompleted;
    run.ended_at = run.started_at = run.created_at;
    workspace_.state().UpdateRun(run);
  }
  void Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) override { Run(run, request, progress); }
  RunLiveness Observe(const RunRecord&) override { return RunLiveness::kFinished; }
  Status Cancel(const std::string&, const std::string&) override { return Status::Ok(); }
  std::string LogPath(const std::string& run_id) const override { return "/dev/null"; }

  static inline std::vector<std::string> commands;

 private:
  Workspace& workspace_;
};

struct SilentReporter : ProgressReporter {
  void Started(size_t, const compiler::planner::Action&) override {}
  void Progress(size_t, const std::string&) override {}
  void Finished(size_t, const compiler::planner::Action&, const ActionResult&, double) override {}
};

}  // namespace

TEST_CASE("a compute type added by one Register line runs the jobs that name it", "[engine]") {
  testing::SpecDir dir;
  dir.Write("compute.yaml", "name: cluster\ntype: amlcompute\n");
  dir.Write("job.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "type: command\nname: train\ncompute: azureml:cluster\ncommand: echo ${{inputs.n}}\n"
            "inputs:\n  n: 3\n");
  auto tree = compiler::DiskSourceTree::Open(dir.str());
  REQUIRE(tree.ok());
  auto session = Session::Compile(tree.value(), dir.str());
  REQUIRE(session->compiles());
  REQUIRE(session->OpenWorkspace(dir.str() + "/.amlc").ok());

  // The fake replaces the built-in slurm target (amlcompute's amlc name).
  session->applier().context().compute_targets().Register(
      "slurm", [](Workspace& workspace) { return std::make_unique<FakeTarget>(workspace); });
  compiler::planner::Plan& plan = session->MakePlan({});
  CHECK(plan.deferred.empty());
  REQUIRE(plan.actions.size() == 2);
  SilentReporter reporter;
  std::vector<ActionResult> results = session->Apply(plan, reporter, 2, "apply-fake");
  for (const ActionResult& r : results) CHECK(r.outcome == Outcome::kSucceeded);
  CHECK(FakeTarget::commands == std::vector<std::string>{"echo 3"});
  RunQuery query;
  auto runs = session->workspace().state().ListRuns(query);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 1);
  CHECK(runs->front().compute == "slurm");
  CHECK(runs->front().status == RunStatus::kCompleted);
}
