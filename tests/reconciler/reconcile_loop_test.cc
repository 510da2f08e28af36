// The reconcile loop's parts in-process: the sync policy, git backoff, a
// repository that appears late, prune and deletion protection, and
// schedules. Real git repositories and a real workspace; no endpoints.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "reconciler/loop/reconciler.h"
#include "reconciler/loop/sync_policy.h"
#include "runtime/state/state_store.h"
#include "tests/test_support.h"

using namespace amlc;
using namespace amlc::testing;
using compiler::planner::Action;
using compiler::planner::ActionType;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

Action MakeAction(ActionType type, const std::string& id, std::vector<size_t> after = {}) {
  Action action;
  action.type = type;
  action.resource_id = id;
  action.after = std::move(after);
  return action;
}

// A repository with a bare origin; specs live in its root.
class Repo {
 public:
  std::string origin() const { return dir_.str() + "/origin.git"; }
  void Write(const std::string& path, const std::string& text) {
    fs::create_directories((dir_.path() / "work" / path).parent_path());
    std::ofstream(dir_.path() / "work" / path) << text;
  }
  void Remove(const std::string& path) { fs::remove(dir_.path() / "work" / path); }
  std::string CommitAndPush(const std::string& message) {
    std::string work = dir_.str() + "/work";
    std::string git = "git -C " + work + " -c user.name=Bob -c user.email=bob@example.com ";
    if (!fs::exists(origin())) {
      REQUIRE(Run("git init -q -b main " + work + " && git init -q --bare -b main " + origin() + " && " + git +
                  "remote add origin " + origin()) == 0);
    }
    REQUIRE(Run(git + "add -A && " + git + "commit -q -m '" + message + "' && " + git + "push -q origin main 2>/dev/null") == 0);
    std::string head;
    Run(git + "rev-parse HEAD", &head);
    return head.substr(0, 40);
  }

 private:
  SpecDir dir_;
};

constexpr const char* kCompute = "$schema: compute.schema.json\nname: local\ntype: local\n";
constexpr const char* kEnvironment = "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n";

std::unique_ptr<reconciler::Reconciler> MakeReconciler(const Repo& repo, const std::string& data,
                                                       std::function<void(reconciler::ReconcileOptions&)> tune = {}) {
  reconciler::ReconcileOptions options;
  options.repository = repo.origin();
  options.data_dir = data;
  options.interval_seconds = 60;
  if (tune) tune(options);
  auto created = reconciler::Reconciler::Create(options);
  REQUIRE(created.ok());
  return std::move(created.value());
}

}  // namespace

TEST_CASE("the sync policy withholds deletes unless pruning, protected ones always, and renumbers", "[reconciler]") {
  compiler::planner::Plan plan;
  plan.actions = {MakeAction(ActionType::kUpdate, "compute/local"), MakeAction(ActionType::kDelete, "endpoint/old"),
                  MakeAction(ActionType::kDelete, "datastore/keep", {1}),
                  MakeAction(ActionType::kRun, "job/train", {0, 2})};
  reconciler::SyncPolicy policy;
  reconciler::PolicyDecision decision = reconciler::ApplyPolicy(plan, policy, true);
  REQUIRE(decision.to_apply.actions.size() == 2);
  CHECK(decision.to_apply.actions[1].resource_id == "job/train");
  CHECK(decision.to_apply.actions[1].after == std::vector<size_t>{0});
  REQUIRE(decision.withheld.size() == 2);
  CHECK(decision.withheld[0].reason == "removed from git; prune is off, so it is kept");

  policy.prune = true;
  policy.protected_resources = {"datastore/keep"};
  decision = reconciler::ApplyPolicy(plan, policy, true);
  REQUIRE(decision.to_apply.actions.size() == 3);
  CHECK(decision.to_apply.actions[1].resource_id == "endpoint/old");
  CHECK(decision.to_apply.actions[2].after == std::vector<size_t>{0});
  REQUIRE(decision.withheld.size() == 1);
  CHECK(decision.withheld[0].reason == "removed from git, but deletion protection keeps it");

  policy.self_heal = false;
  CHECK(reconciler::ApplyPolicy(plan, policy, true).to_apply.actions.size() == 3);  // a new commit applies
  CHECK(reconciler::ApplyPolicy(plan, policy, false).to_apply.empty());             // drift is only reported
  policy.auto_sync = false;
  CHECK(reconciler::ApplyPolicy(plan, policy, true).to_apply.empty());
}

TEST_CASE("git backoff doubles up to the interval, with jitter between half and all of it", "[reconciler]") {
  CHECK(reconciler::BackoffSeconds(1, 300, 1) == 1);
  CHECK(reconciler::BackoffSeconds(2, 300, 1) == 2);
  CHECK(reconciler::BackoffSeconds(5, 300, 1) == 16);
  CHECK(reconciler::BackoffSeconds(30, 300, 1) == 300);
  CHECK(reconciler::BackoffSeconds(5, 300, 0) == 8);
  CHECK(reconciler::BackoffSeconds(1000, 60, 0.5) == 45);
}

TEST_CASE("an unreachable repository is a GitError recorded once, and the loop converges when it appears",
          "[reconciler]") {
  Repo repo;
  SpecDir data;
  auto loop = MakeReconciler(repo, data.str());
  reconciler::PassOutcome outcome = loop->RunPass("startup");
  CHECK(outcome.result == "GitError");
  CHECK(outcome.sync_id > 0);
  json status = loop->Status();
  CHECK(status["git"]["ok"] == false);
  CHECK(status["git"]["failures"] == 1);
  CHECK(status["git"]["error"].get<std::string>().find(repo.origin()) != std::string::npos);
  CHECK(loop->RunPass("interval").sync_id == 0);  // the same trouble again: no new record
  CHECK(loop->Status()["git"]["failures"] == 2);

  repo.Write("compute.yaml", kCompute);
  std::string commit = repo.CommitAndPush("first specs");
  outcome = loop->RunPass("interval");
  CHECK(outcome.result == "Synced");
  CHECK(outcome.commit == commit);
  status = loop->Status();
  CHECK(status["git"]["ok"] == true);
  CHECK(status["status"] == "Synced");
  REQUIRE(status["resources"].size() == 1);
  CHECK(status["resources"][0]["id"] == "compute/local");
  CHECK(status["resources"][0]["health"] == "Healthy");
  json syncs = loop->Syncs(10);
  REQUIRE(syncs.size() == 2);
  CHECK(syncs[0]["author"] == "Bob <bob@example.com>");
  // The timer found a new head: the sync names the push, not only the timer.
  CHECK(syncs[0]["trigger"] == "push " + commit.substr(0, 7) + " (found by the interval pass)");
  CHECK(syncs[1]["result"] == "GitError");
  // Nothing changed: the pass records nothing.
  CHECK(loop->RunPass("interval").sync_id == 0);
  CHECK(loop->Status()["last_pass"]["trigger"] == "interval");
}

TEST_CASE("resources removed from git are kept and reported unless pruned; protected ones always stay",
          "[reconciler]") {
  Repo repo;
  SpecDir data;
  repo.Write("compute.yaml", kCompute);
  repo.Write("env.yaml", kEnvironment);
  repo.Write("experiment.yaml", "$schema: experiment.schema.json\nname: iris\n");
  repo.CommitAndPush("three resources");
  {
    auto loop = MakeReconciler(repo, data.str());
    REQUIRE(loop->RunPass("startup").result == "Synced");
  }
  repo.Remove("env.yaml");
  repo.Remove("experiment.yaml");
  repo.CommitAndPush("drop two");
  {
    auto loop = MakeReconciler(repo, data.str());
    reconciler::PassOutcome outcome = loop->RunPass("startup");
    CHECK(outcome.result == "OutOfSync");
    CHECK(!outcome.applied);
    json resources = loop->Status()["resources"];
    REQUIRE(resources.size() == 3);
    CHECK(resources[1]["sync"] == "OutOfSync");
    CHECK(loop->Sync(outcome.sync_id)->at("diagnostics").get<std::string>().find(
              "environment/py:1: removed from git; prune is off") != std::string::npos);
  }
  auto pruning = MakeReconciler(repo, data.str(), [](reconciler::ReconcileOptions& options) {
    options.prune = true;
    options.protected_resources = {"experiment/iris"};
  });
  reconciler::PassOutcome outcome = pruning->RunPass("startup");
  CHECK(outcome.applied);
  auto records = pruning->workspace().state().ListResources();
  REQUIRE(records.ok());
  std::vector<std::string> ids;
  for (const auto& r : records.value()) ids.push_back(r.id);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"compute/local", "experiment/iris"});
  CHECK(outcome.result == "OutOfSync");  // the protected one is still not in git
}

TEST_CASE("a job's schedule starts its run when due, tagged with the trigger, once per fire", "[reconciler]") {
  Repo repo;
  SpecDir data;
  repo.Write("compute.yaml", kCompute);
  repo.Write("env.yaml", kEnvironment);
  repo.Write("src/hello.py", "print('hello')\n");
  repo.Write("job.yaml",
             "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
             "name: nightly\ncode: src\ncommand: python hello.py\nenvironment: azureml:py:1\n"
             "schedule:\n  type: cron\n  expression: \"0 2 * * *\"\n");
  repo.CommitAndPush("a scheduled job");
  auto loop = MakeReconciler(repo, data.str());
  REQUIRE(loop->RunPass("startup").result == "Synced");  // the first run: the job is new
  runtime::StateStore& state = loop->workspace().state();
  auto count_runs = [&] { return state.ListRuns({})->size(); };
  REQUIRE(count_runs() == 1);

  const int64_t day = 24 * 3600 * 1000;
  const int64_t one_am = 1795914000000;  // 2026-11-29T01:00:00Z
  CHECK(loop->RunDueSchedules(one_am) == 0);  // first seen: remembered, nothing started
  CHECK(loop->RunDueSchedules(one_am + 1800 * 1000) == 0);  // 01:30: not yet
  CHECK(loop->RunDueSchedules(one_am + 3600 * 1000 + 5000) == 1);  // 02:00:05: due
  REQUIRE(count_runs() == 2);
  CHECK(loop->RunDueSchedules(one_am + 3600 * 1000 + 60000) == 0);  // fired already
  CHECK(loop->RunDueSchedules(one_am + day + 3600 * 1000) == 1);   // the next night
  REQUIRE(count_runs() == 3);
  auto runs = state.ListRuns({});
  auto tags = state.RunTags(runs->front().id);
  REQUIRE(tags.ok());
  std::string trigger;
  for (const auto& [key, value] : tags.value()) {
    if (key == "amlc.trigger") trigger = value;
  }
  CHECK(trigger == "schedule job/nightly (cron 0 2 * * *)");
  CHECK(runs->front().status == runtime::RunStatus::kCompleted);
}
