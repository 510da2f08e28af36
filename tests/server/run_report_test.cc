// Training scripts that report over HTTP, against a real `amlc server`: a
// script in a folder of its own (the workspace folder is not visible to it),
// given only the server's URL and its run token, lands metrics, params, tags,
// a child run and an output file in the workspace; a server killed and
// restarted mid-run loses and doubles nothing; the token writes only its run,
// and stops working when the run ends.
#include <catch2/catch.hpp>
#include <fstream>

#include "base/clock.h"
#include "runtime/compute/run_reporting.h"
#include "runtime/workspace/access.h"
#include "runtime/workspace/workspace.h"
#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

// A Running run on compute that does not share the workspace folder.
runtime::RunRecord RemoteRun(runtime::Workspace& workspace, const std::string& id) {
  runtime::RunRecord run;
  run.id = id;
  run.experiment = "remote";
  run.job_id = "job/train";
  run.compute = "ssh";
  run.status = runtime::RunStatus::kRunning;
  run.created_at = run.started_at = NowMillis();
  REQUIRE(workspace.state().EnsureExperiment(run.experiment).ok());
  REQUIRE(workspace.state().InsertRun(run).ok());
  return run;
}

// Starts `python3 train.py` in `folder` with only the run's variables (no
// tracking file, no workspace path).
Process StartScript(const std::string& folder, const std::string& run_id, const runtime::RunRequest& request) {
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", "train.py"};
  spec.cwd = folder;
  spec.output_file = folder + "/script.log";
  spec.env = std::vector<std::string>{
      "PATH=/usr/bin:/bin", "PYTHONPATH=" + SourcePath("python") + ":" + SourcePath("python/fallback"),
      "AMLC_RUN_ID=" + run_id, "AMLC_EXPERIMENT=remote", "AMLC_SERVER=" + request.env.at("AMLC_SERVER"),
      "AMLC_RUN_TOKEN=" + request.env.at("AMLC_RUN_TOKEN")};
  auto started = Spawn(spec);
  REQUIRE(started.ok());
  return std::move(started.value());
}

int ExitCode(Process& script) {
  auto status = script.Wait();
  REQUIRE(status.ok());
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

// Waits (up to two minutes) for `path` to exist.
void AwaitFile(const std::string& path, Process& script) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!std::filesystem::exists(path)) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    REQUIRE(script.Running());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

constexpr const char* kTrainScript = R"(
from amlc import Run
import mlflow
run = Run.get_context()
for step in range(1500):
    run.log("loss", 1.0 / (step + 1))
run.tag("framework", "numpy")
mlflow.log_param("lr", 0.1)
mlflow.log_metric("accuracy", 0.93)
with open("model.txt", "w") as f:
    f.write("weights")
run.upload_file("model/model.txt", "model.txt")
with run.child_run("trial 1") as child:
    child.log("score", 7)
)";

TEST_CASE("run reporting: a script whose workspace folder is elsewhere lands metrics, tags, params, a child run "
          "and outputs through the server",
          "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  auto workspace = runtime::Workspace::Open(server.home());
  REQUIRE(workspace.ok());
  runtime::RunRecord run = RemoteRun(**workspace, "train-remote-1");
  runtime::RunRequest request;
  auto reporting = std::make_unique<runtime::RunReporting>(**workspace, run, request);
  REQUIRE(reporting->active());
  CHECK(request.env.at("AMLC_SERVER") == "http://127.0.0.1:" + std::to_string(server.port()));

  dir.Write("node/train.py", kTrainScript);
  Process script = StartScript(dir.str() + "/node", run.id, request);
  REQUIRE(ExitCode(script) == 0);
  INFO(ReadFile(dir.str() + "/node/script.log"));

  runtime::StateStore& state = (*workspace)->state();
  auto loss = state.Metrics(run.id, "loss");
  REQUIRE(loss.ok());
  REQUIRE(loss->size() == 1500);
  CHECK(loss->back().step == 1499);
  CHECK(loss->back().value == Approx(1.0 / 1500));
  auto accuracy = state.Metrics(run.id, "accuracy");
  REQUIRE(accuracy.ok());
  REQUIRE(accuracy->size() == 1);
  CHECK(accuracy->front().value == Approx(0.93));
  auto tags = state.RunTags(run.id);
  REQUIRE(tags.ok());
  CHECK(std::count(tags->begin(), tags->end(), std::pair<std::string, std::string>{"framework", "numpy"}) == 1);
  auto params = state.RunParams(run.id);
  REQUIRE(params.ok());
  CHECK(*params == std::vector<std::pair<std::string, std::string>>{{"lr", "0.1"}});
  CHECK(ReadFile((*workspace)->run_outputs(run.id) + "/model/model.txt") == "weights");
  auto child = state.GetRun(run.id + ".trial_1");
  REQUIRE(child.ok());
  REQUIRE(child->has_value());
  CHECK((*child)->parent_run_id == run.id);
  CHECK((*child)->status == runtime::RunStatus::kCompleted);
  auto score = state.Metrics(run.id + ".trial_1", "score");
  REQUIRE(score.ok());
  CHECK(score->size() == 1);

  // The CLI reads what the script sent, as for a local run.
  std::string shown;
  REQUIRE(server.Cli("runs show " + run.id + " --json", &shown) == 0);
  CHECK(json::parse(shown).dump().find("framework") != std::string::npos);
}

constexpr const char* kRestartScript = R"(
import os, time
from amlc import Run
run = Run.get_context()
for step in range(1000):
    run.log("loss", step)
run.flush()
open("first-half-sent", "w").close()
while not os.path.exists("server-killed"):
    time.sleep(0.01)
for step in range(1000, 2000):
    run.log("loss", step)
)";

TEST_CASE("run reporting: a server killed and restarted mid-run still gets every point exactly once", "[server]") {
  SpecDir dir;
  auto server = std::make_unique<WorkspaceServerProcess>(dir.str() + "/home");
  int port = server->port();
  auto workspace = runtime::Workspace::Open(server->home());
  REQUIRE(workspace.ok());
  runtime::RunRecord run = RemoteRun(**workspace, "train-restart-1");
  runtime::RunRequest request;
  runtime::RunReporting reporting(**workspace, run, request);
  REQUIRE(reporting.active());

  dir.Write("node/train.py", kRestartScript);
  std::string node = dir.str() + "/node";
  Process script = StartScript(node, run.id, request);
  AwaitFile(node + "/first-half-sent", script);
  server->Kill();
  dir.Write("node/server-killed", "");
  // The script logs its second half and exits while nobody listens: its
  // sender retries until the server is back on the same port.
  server = std::make_unique<WorkspaceServerProcess>(dir.str() + "/home", port);
  REQUIRE(ExitCode(script) == 0);
  INFO(ReadFile(node + "/script.log"));

  auto loss = (*workspace)->state().Metrics(run.id, "loss");
  REQUIRE(loss.ok());
  REQUIRE(loss->size() == 2000);
  for (int64_t step = 0; step < 2000; ++step) {
    REQUIRE((*loss)[static_cast<size_t>(step)].step == step);
    REQUIRE((*loss)[static_cast<size_t>(step)].value == Approx(static_cast<double>(step)));
  }
}

TEST_CASE("run reporting: a batch sent again is stored once; a run token writes only its run, and not after it ended",
          "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string owner = server.UserWithToken("alice", "owner");
  auto workspace = runtime::Workspace::Open(server.home());
  REQUIRE(workspace.ok());
  runtime::RunRecord run = RemoteRun(**workspace, "train-scope-1");
  RemoteRun(**workspace, "train-other-1");
  runtime::RunRequest request;
  auto reporting = std::make_unique<runtime::RunReporting>(**workspace, run, request);
  std::string token = request.env.at("AMLC_RUN_TOKEN");
  auto client = server.Client(token);
  json batch = {{"batch", "k-1"}, {"metrics", {{{"name", "loss"}, {"step", 0}, {"value", 0.5}, {"ts", 1}},
                                               {{"name", "loss"}, {"step", 1}, {"value", "NaN"}, {"ts", 2}}}}};

  auto first = client.Post("/api/v1/runs/train-scope-1/metrics", batch.dump(), "application/json");
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(Body(first) == json{{"batch", "k-1"}, {"stored", 2}, {"duplicate", false}});
  auto again = client.Post("/api/v1/runs/train-scope-1/metrics", batch.dump(), "application/json");
  REQUIRE(again);
  CHECK(Body(again) == json{{"batch", "k-1"}, {"stored", 0}, {"duplicate", true}});
  CHECK((*workspace)->state().Metrics(run.id, "loss")->size() == 2);

  // Another run, a route that is not the run's own writes, a read: 403.
  auto other = client.Post("/api/v1/runs/train-other-1/metrics", batch.dump(), "application/json");
  REQUIRE(other);
  CHECK(other->status == 403);
  CHECK(Body(other)["message"].get<std::string>().find("train-scope-1") != std::string::npos);
  CHECK((*workspace)->state().Metrics("train-other-1", "")->empty());
  auto cancel = client.Post("/api/v1/runs/train-scope-1/cancel", "{}", "application/json");
  REQUIRE(cancel);
  CHECK(cancel->status == 403);
  auto list = client.Get("/api/v1/runs");
  REQUIRE(list);
  CHECK(list->status == 403);
  // An output path leaving the outputs folder is refused.
  auto escape = client.Put("/api/v1/runs/train-scope-1/outputs/a/../../x", "bytes", "application/octet-stream");
  REQUIRE(escape);
  CHECK((escape->status == 400 || escape->status == 404));

  // The run ends: the token stops working at once (401), and the engine
  // revokes it.
  run.status = runtime::RunStatus::kCompleted;
  run.ended_at = NowMillis();
  REQUIRE((*workspace)->state().UpdateRun(run).ok());
  auto ended = client.Post("/api/v1/runs/train-scope-1/metrics", batch.dump(), "application/json");
  REQUIRE(ended);
  CHECK(ended->status == 401);
  CHECK(Body(ended)["message"].get<std::string>().find("has ended") != std::string::npos);
  reporting.reset();
  auto tokens = server.Client(owner).Get("/api/v1/tokens?user=" + runtime::CurrentUser());
  REQUIRE(tokens);
  int revoked = 0;
  for (const json& listed : Body(tokens)) {
    revoked += listed["name"] == "run train-scope-1" && listed["state"] == "revoked" ? 1 : 0;
  }
  CHECK(revoked == 1);

  // Every call is in the audit log, the refusals too.
  auto audit = server.Client(owner).Get("/api/v1/audit?limit=20");
  REQUIRE(audit);
  int refused = 0;
  for (const json& entry : Body(audit)) refused += entry["status"] == 403 ? 1 : 0;
  CHECK(refused == 3);
}

}  // namespace
}  // namespace amlc::testing
