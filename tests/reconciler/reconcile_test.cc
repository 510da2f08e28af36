// The reconciler end to end through the amlc binary: a real bare repository
// pushed to with git, `amlc reconcile` running as a process with its webhook
// and status API on loopback, the quickstart trained, registered, packaged
// and served, commit after commit.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The stand-in forge (tests/servers/fake_forge.py) on a loopback port.
class Forge {
 public:
  explicit Forge(const std::string& dir) : port_file_(dir + "/forge.port") {
    std::string pid;
    REQUIRE(Run("python3 " + SourcePath("tests/servers/fake_forge.py") + " --token " + kForgeToken + " > " +
                    port_file_ + " 2>&1 & echo $!",
                &pid) == 0);
    pid_ = std::atoi(pid.c_str());
    // Until it prints its port, or it is gone: Python may take seconds to
    // start on a loaded machine; the minute is for a hung start only.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (port_ == 0 && kill(pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      port_ = std::atoi(ReadFile(port_file_).c_str());
    }
    INFO("fake forge output: " + ReadFile(port_file_));
    REQUIRE(port_ > 0);
  }
  ~Forge() { kill(pid_, SIGTERM); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  json Comments() const {
    std::string out;
    Run("curl -s " + url() + "/_comments", &out);
    return json::parse(out, nullptr, false);
  }
  static constexpr const char* kForgeToken = "forge-token-for-tests";

 private:
  std::string port_file_;
  pid_t pid_ = 0;
  int port_ = 0;
};

json PullRequestEvent(const std::string& action, const std::string& head) {
  return {{"action", action},
          {"number", 7},
          {"pull_request",
           {{"title", "train with C=2"}, {"head", {{"ref", "feature"}, {"sha", head}}}, {"base", {{"ref", "main"}}}}},
          {"repository", {{"full_name", "team/iris"}}}};
}

json PushEvent(const std::string& commit) {
  return {{"ref", "refs/heads/main"}, {"after", commit}, {"pusher", {{"name", "alice"}}}};
}

json WorkspaceJson(const std::string& workspace, const std::string& args) {
  std::string out;
  if (Run(Amlc(args + " --json --workspace " + workspace), &out) != 0) return json();
  return json::parse(out, nullptr, false);
}

int CompletedRuns(const std::string& workspace) {
  int count = 0;
  for (const json& run : WorkspaceJson(workspace, "runs list")) count += run.value("status", "") == "Completed";
  return count;
}

// curl's status code for a scoring request to the quickstart's endpoint.
int Score(const std::string& workspace) {
  json list = WorkspaceJson(workspace, "deployments list");
  json keys = WorkspaceJson(workspace, "deployments keys blue");
  if (!list.is_array() || list.empty() || !keys.is_object()) return 0;
  std::string code;
  Run("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Authorization: Bearer " +
          keys.value("primary", "") + "' --data @" + SourcePath("examples/quickstart/sample-request.json") + " " +
          list[0].value("scoring_uri", ""),
      &code);
  return std::atoi(code.c_str());
}

long EndpointHostPid(const std::string& workspace) {
  std::ifstream in(workspace + "/endpoints/iris/endpoint-host.pid");
  long pid = 0;
  in >> pid;
  return pid;
}

// Takes down what the passes started when the test ends, however it ends, so
// no endpoint host outlives it.
class DestroyAtEnd {
 public:
  DestroyAtEnd(std::string specs, std::string workspace) : specs_(std::move(specs)), workspace_(std::move(workspace)) {}
  ~DestroyAtEnd() {
    Run(Amlc("destroy --auto-approve --workspace " + workspace_ + " " + specs_ + " > /dev/null 2>&1"));
  }

 private:
  std::string specs_, workspace_;
};

void CopyQuickstart(const Origin& origin) {
  fs::copy(SourcePath("examples/quickstart"), fs::path(origin.work()) / "ml", fs::copy_options::recursive);
  fs::remove_all(fs::path(origin.work()) / "ml/.amlc");
}

}  // namespace

TEST_CASE("the reconciler converges commit after commit, rejects a bad one and heals drift",
          "[reconciler][deploy]") {
  Origin origin;
  CopyQuickstart(origin);
  std::string c1 = origin.CommitAndPush("quickstart");
  SpecDir data;
  std::string workspace = data.str() + "/rec/workspace";
  DestroyAtEnd destroy(origin.work() + "/ml", workspace);
  // Previews are posted on a forge whose token is a workspace secret.
  Forge forge(data.str());
  REQUIRE(Run("FORGE_TOKEN=" + std::string(Forge::kForgeToken) + " " +
              Amlc("secrets set forge-token --from-env FORGE_TOKEN --workspace " + workspace)) == 0);
  ReconcilerProcess reconciler(origin, data.str() + "/rec",
                               "--forge-url " + forge.url() + " --forge-token-secret forge-token");

  // Commit 1 converges: a run, a model, an image, a live endpoint.
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(c1, 240));
  CHECK(CompletedRuns(workspace) == 1);
  CHECK(WorkspaceJson(workspace, "models list").size() == 1);
  CHECK(WorkspaceJson(workspace, "images list").size() == 1);
  CHECK(Score(workspace) == 200);
  json status = reconciler.Get("/api/status");
  CHECK(status["health"] == "Healthy");
  CHECK(status["last_sync"]["author"] == "Alice <alice@example.com>");
  CHECK(status["last_sync"]["message"] == "quickstart");
  for (const json& r : status["resources"]) CHECK(r["sync"] == "Synced");
  std::string table;
  REQUIRE(Run(Amlc("status --server " + reconciler.url()), &table) == 0);
  CHECK(table.find("Status      Synced, Healthy") != std::string::npos);
  CHECK(std::regex_search(table, std::regex("deployment/blue +Synced +Healthy")));
  CHECK(Run(Amlc("status --server http://127.0.0.1:1 2>&1"), &table) != 0);
  CHECK(table.find("no reconciler answers at http://127.0.0.1:1") != std::string::npos);

  // A webhook with a bad signature is refused and starts nothing.
  size_t syncs_before = reconciler.Get("/api/syncs").size();
  CHECK(reconciler.Webhook("push", PushEvent(c1), "not-the-secret") == 401);

  // Commit 2 changes the training code: exactly one new run, and a rollout.
  origin.Append("ml/src/train.py", "# tuned\n");
  std::string c2 = origin.CommitAndPush("tune the training code");
  CHECK(reconciler.Webhook("push", PushEvent(c2)) == 202);
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(c2, 240));
  CHECK(CompletedRuns(workspace) == 2);
  CHECK(WorkspaceJson(workspace, "models list").size() == 2);
  json deployments = WorkspaceJson(workspace, "deployments list");
  REQUIRE(deployments.size() == 1);
  CHECK(deployments[0].dump().find("iris-image:2") != std::string::npos);
  CHECK(Score(workspace) == 200);
  json syncs = reconciler.Get("/api/syncs");
  REQUIRE(syncs.size() > syncs_before);
  CHECK(syncs[0]["commit"] == c2);
  // The webhook's pass, or the 3 s interval pass when its fetch found the push
  // before the webhook came, started the sync: either way it names the push.
  std::string trigger = syncs[0]["trigger"];
  CHECK((trigger == "push " + c2.substr(0, 7) + " by alice" ||
         trigger == "push " + c2.substr(0, 7) + " (found by the interval pass)"));
  CHECK(ReadFile(reconciler.log()).find("webhook: push to main accepted (push " + c2.substr(0, 7) + " by alice)") !=
        std::string::npos);
  json whole = reconciler.Get("/api/syncs/" + std::to_string(syncs[0]["id"].get<int64_t>()));
  CHECK(whole["apply_log"].get<std::string>().find("job/train-iris") != std::string::npos);
  CHECK(whole["plan"].is_object());

  // Commit 3 has a spec error: InvalidSpec, nothing changes, the endpoint answers.
  origin.Append("ml/deployment.yaml", "instance_count: -1\n");
  std::string c3 = origin.CommitAndPush("break the deployment");
  CHECK(reconciler.Webhook("push", PushEvent(c3)) == 202);
  REQUIRE_LOGGED(reconciler, reconciler.WaitForStatus(
                                 [&](const json& s) { return s.value("status", "") == "InvalidSpec"; }, 60));
  syncs = reconciler.Get("/api/syncs");
  CHECK(syncs[0]["commit"] == c3);
  CHECK(syncs[0]["result"] == "InvalidSpec");
  CHECK(syncs[0]["diagnostics"].get<std::string>().find("ml/deployment.yaml") != std::string::npos);
  CHECK(reconciler.Get("/api/status")["commit"] == c2);
  CHECK(CompletedRuns(workspace) == 2);
  CHECK(Score(workspace) == 200);

  // Commit 4 fixes it and converges.
  REQUIRE(Run(origin.Git("checkout -q HEAD~1 -- ml/deployment.yaml")) == 0);
  origin.Append("ml/deployment.yaml", "description: fixed\n");
  std::string c4 = origin.CommitAndPush("fix the deployment");
  CHECK(reconciler.Webhook("push", PushEvent(c4)) == 202);
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(c4, 120));
  CHECK(CompletedRuns(workspace) == 2);
  CHECK(Score(workspace) == 200);

  // A pull request's preview: its head planned against the live state.
  REQUIRE(Run(origin.Git("checkout -q -b feature")) == 0);
  std::string train = ReadFile(fs::path(origin.work()) / "ml/train.yaml");
  origin.Write("ml/train.yaml", std::regex_replace(train, std::regex("C: 1.0"), "C: 2.0"));
  std::string head = origin.CommitAndPush("train with C=2", "feature");
  std::string preview;
  // Exit 2: the head compiles and changes something (as `argocd app diff`).
  REQUIRE(Run(Amlc("preview --repo " + origin.bare() + " --base main --head feature --path ml --data-dir " +
                   data.str() + "/rec --pr 7 --name team/iris"),
              &preview) == 2);
  // Exit 0: the synced head changes nothing.
  CHECK(Run(Amlc("preview --repo " + origin.bare() + " --base main --head main --path ml --data-dir " + data.str() +
                 "/rec >/dev/null")) == 0);
  std::string expected = ReadFile(SourcePath("tests/reconciler/golden/quickstart_preview.md"));
  expected = std::regex_replace(expected, std::regex("HEAD7"), head.substr(0, 7));
  expected = std::regex_replace(expected, std::regex("BASE7"), c4.substr(0, 7));
  CHECK(preview == expected);
  CHECK(CompletedRuns(workspace) == 2);  // a preview changes nothing

  // The pull request's webhook posts that preview on the forge; a new push
  // to it updates the same comment.
  CHECK(reconciler.Webhook("pull_request", PullRequestEvent("opened", head)) == 202);
  auto comment_shows = [&](const std::string& commit) {
    for (int i = 0; i < 150; ++i) {
      json comments = forge.Comments();
      if (comments.is_array() && !comments.empty() &&
          comments.back().dump().find(commit.substr(0, 7)) != std::string::npos) {
        return comments;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return json();
  };
  json comments = comment_shows(head);
  REQUIRE(comments.size() == 1);
  CHECK(comments[0].dump().find("input 'C' changed") != std::string::npos);
  origin.Append("ml/src/train.py", "# another tweak\n");
  std::string head2 = origin.CommitAndPush("tweak again", "feature");
  CHECK(reconciler.Webhook("pull_request", PullRequestEvent("synchronize", head2)) == 202);
  comments = comment_shows(head2);
  CHECK(comments.size() == 1);
  CHECK(ReadFile(reconciler.log()).find(Forge::kForgeToken) == std::string::npos);
  REQUIRE(Run(origin.Git("checkout -q main")) == 0);

  // The endpoint host killed from outside is drift: restored by the next
  // interval pass (its trigger is checked below). That pass restarts the host
  // and rolls the deployment out again, which on a loaded machine can take
  // far longer than the 3 s interval: the two minutes are for a pass that hangs.
  long host = EndpointHostPid(workspace);
  REQUIRE(host > 0);
  kill(static_cast<pid_t>(host), SIGKILL);
  bool restored = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!restored && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    restored = EndpointHostPid(workspace) != host && Score(workspace) == 200;
  }
  REQUIRE_LOGGED(reconciler, restored);
  CHECK(reconciler.WaitForStatus(
      [](const json& s) { return s["last_sync"].value("trigger", "") == "interval" && s["last_sync"]["ended_at"] != 0; },
      30));
  syncs = reconciler.Get("/api/syncs");
  CHECK(syncs[0]["trigger"] == "interval");
  CHECK(syncs[0]["result"] == "Synced");
  CHECK(syncs[0]["commit"] == c4);

  // SIGTERM ends it cleanly.
  CHECK(reconciler.Stop() == 0);
  CHECK(ReadFile(reconciler.log()).find("stopped") != std::string::npos);
}

TEST_CASE("a run started by a sync is tracked to completion across a reconciler restart", "[reconciler]") {
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  origin.Write("ml/env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
  origin.Write("ml/src/work.sh", "sleep 3\necho finished > outputs/out/done.txt\n");
  origin.Write("ml/job.yaml",
               "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
               "name: work\ncode: src\ncommand: sh work.sh\noutputs:\n  out:\n");
  std::string commit = origin.CommitAndPush("a slow job");
  SpecDir data;
  std::string workspace = data.str() + "/rec/workspace";
  auto runs_with = [&](const std::string& status) {
    int count = 0;
    for (const json& run : WorkspaceJson(workspace, "runs list")) count += run.value("status", "") == status;
    return count;
  };
  {
    ReconcilerProcess first(origin, data.str() + "/rec");
    for (int i = 0; i < 150 && runs_with("Running") == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(runs_with("Running") == 1);
    first.Kill();
  }
  ReconcilerProcess second(origin, data.str() + "/rec");
  REQUIRE_LOGGED(second, second.WaitForSynced(commit, 60));
  CHECK(WorkspaceJson(workspace, "runs list").size() == 1);  // the same run, not a second one
  CHECK(runs_with("Completed") == 1);
  json syncs = second.Get("/api/syncs");
  REQUIRE(syncs.size() >= 2);
  CHECK(syncs.back()["result"] == "Failed");  // the first sync, cut short, is marked so
  CHECK(syncs.back()["diagnostics"].get<std::string>().find("interrupted") != std::string::npos);
}
