// Pull-request previews: the markdown comment (against a golden file), its
// size limit and JSON twin, and the forge client against a stand-in forge
// (tests/servers/fake_forge.py) started as a child process.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/planner/plan.h"
#include "reconciler/preview/forge_client.h"
#include "reconciler/preview/preview_markdown.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using amlc::reconciler::ForgeClient;
using amlc::reconciler::kPreviewMarker;
using amlc::reconciler::PreviewInput;
using amlc::reconciler::PreviewJson;
using amlc::reconciler::RenderPreviewMarkdown;
using amlc::compiler::planner::Action;
using amlc::compiler::planner::ActionType;
using amlc::compiler::planner::Plan;
using json = nlohmann::json;

namespace {

constexpr const char* kGolden = "tests/reconciler/golden/preview_basic.md";
constexpr const char* kTrimNoteStart = "_Trimmed to fit the forge's comment limit: run `amlc preview";

Action MakeAction(ActionType type, std::string id, std::string kind,
                  std::vector<std::string> reasons) {
  Action action;
  action.type = type;
  action.resource_id = std::move(id);
  action.kind = std::move(kind);
  action.reasons = std::move(reasons);
  return action;
}

// A plan with every kind of action and list the preview shows.
Plan ExamplePlan() {
  Plan plan;
  Action train = MakeAction(ActionType::kRun, "job/train-iris", "job", {"code snapshot changed: 1 file"});
  train.run_key = "sha256:4f9c2a";
  plan.actions.push_back(train);
  Action evaluate = MakeAction(ActionType::kRun, "job/evaluate", "job",
                               {"reads outputs of job/train-iris, which runs first"});
  evaluate.known_after_apply = true;
  plan.actions.push_back(evaluate);

  Action model = MakeAction(ActionType::kCreate, "model/iris", "model",
                            {"reads outputs of job/train-iris, which runs first"});
  model.known_after_apply = true;
  plan.actions.push_back(model);
  // A change of tags alone: updated in place, no new version.
  Action tags = MakeAction(ActionType::kUpdate, "model/legacy", "model",
                           {"metadata changed; model/legacy:3 keeps its files"});
  tags.changes.push_back({"tags.stage", "\"staging\"", "\"production\""});
  plan.actions.push_back(tags);
  plan.actions.push_back(MakeAction(ActionType::kUpdate, "image/iris-image", "image",
                                    {"the packaged model files changed"}));

  Action compute = MakeAction(ActionType::kUpdate, "compute/cpu-cluster", "compute",
                              {"spec changed: 2 fields"});
  compute.changes.push_back({"max_instances", "2", "4"});
  compute.changes.push_back({"idle_time_before_scale_down", "", "\"PT5M\""});
  plan.actions.push_back(compute);

  Action endpoint = MakeAction(ActionType::kUpdate, "endpoint/iris", "endpoint",
                               {"spec changed: 5 fields"});
  endpoint.changes.push_back({"traffic.blue", "100", "90"});
  endpoint.changes.push_back({"traffic.green", "", "10"});
  endpoint.changes.push_back({"description", "\"Iris <classifier> & `friends`\"",
                              "\"Iris classifier, now served from two deployments at once, "
                              "with a tenth of the traffic on green\""});
  endpoint.changes.push_back({"auth_mode", "\"key\"", "\"aml_token\""});
  endpoint.changes.push_back({"tags.owner", "\"ml-team\"", ""});
  plan.actions.push_back(endpoint);

  Action blue = MakeAction(ActionType::kCreate, "deployment/blue", "deployment",
                           {"uses image/iris-image, which gets a new version first"});
  blue.known_after_apply = true;
  plan.actions.push_back(blue);

  Action store = MakeAction(ActionType::kReplace, "datastore/blobs", "datastore",
                            {"its type changed, which cannot be changed in place"});
  store.changes.push_back({"type", "\"local\"", "\"azure_blob\""});
  plan.actions.push_back(store);
  plan.actions.push_back(MakeAction(ActionType::kDelete, "deployment/old-green", "deployment",
                                    {"removed from the specs"}));

  plan.held_back.push_back(
      {"model/iris-candidate", "register_when metrics.accuracy >= 0.9 does not hold (accuracy = 0.85)"});
  plan.deferred.push_back(
      {"deployment/edge", "IoT Edge modules are not supported by the available targets"});
  plan.up_to_date = 5;
  return plan;
}

PreviewInput ExampleInput(const Plan* plan) {
  PreviewInput input;
  input.repository = "ml-team/iris";
  input.pull_request = 42;
  input.base_ref = "main";
  input.base_commit = "def5678901234567890123456789012345678901";
  input.head_ref = "feature/two-deployments";
  input.head_commit = "abc1234567890123456789012345678901234567";
  input.plan = plan;
  return input;
}

bool EndsWith(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// The stand-in forge as a child process on a loopback port; stopped (by its
// pid) when the object goes.
class FakeForge {
 public:
  FakeForge(const std::string& token, const std::string& prefix) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    std::vector<std::string> argv = {"/usr/bin/python3", SourcePath("tests/servers/fake_forge.py"),
                                     "--token", token, "--prefix", prefix};
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> raw;
      for (std::string& arg : argv) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    close(out[1]);
    port_ = ReadPortLine(out[0]);
    close(out[0]);
    if (port_ <= 0) Stop();  // the destructor does not run when the constructor fails
    REQUIRE(port_ > 0);
  }
  ~FakeForge() { Stop(); }

  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every comment the forge holds (GET /_comments).
  json Comments() const {
    std::string out;
    std::string script = "import sys,urllib.request as u; print(u.urlopen(sys.argv[1]).read().decode())";
    REQUIRE(Run("python3 -c '" + script + "' " + origin() + "/_comments", &out) == 0);
    return json::parse(out);
  }

  // Posts `count` comments that are no previews, as other people would.
  void AddOtherComments(const std::string& api, const std::string& token, int count) const {
    std::string script =
        "import json,sys,urllib.request as u\n"
        "for i in range(int(sys.argv[3])):\n"
        "  u.urlopen(u.Request(sys.argv[1], data=json.dumps({\"body\": \"LGTM %d\" % i}).encode(),"
        " headers={\"Authorization\": \"token \" + sys.argv[2], \"Content-Type\": \"application/json\"},"
        " method=\"POST\"))\n";
    REQUIRE(Run("python3 -c '" + script + "' " + api + " " + token + " " + std::to_string(count)) == 0);
  }

 private:
  // The port the forge prints once it listens (15 s at most).
  static int ReadPortLine(int fd) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd readable{fd, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0) continue;
      char buffer[64];
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) break;  // it exited
      line.append(buffer, static_cast<size_t>(n));
    }
    return std::atoi(line.c_str());
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

json CommentsOn(const json& all, const std::string& repository, int issue) {
  json mine = json::array();
  for (const json& comment : all) {
    if (comment["repository"] == repository && comment["issue"] == issue) mine.push_back(comment);
  }
  return mine;
}

}  // namespace

TEST_CASE("a preview renders every part of the plan as the golden file", "[reconciler][preview]") {
  Plan plan = ExamplePlan();
  PreviewInput input = ExampleInput(&plan);
  input.diagnostics = "specs/jobs/train.yml:4:3: warning: field 'resources' is ignored on local compute\n";
  input.warnings = 1;
  std::string markdown = RenderPreviewMarkdown(input);

  // AMLC_UPDATE_GOLDEN=1 rewrites the golden file; read the diff before committing it.
  if (std::getenv("AMLC_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(SourcePath(kGolden), std::ios::binary) << markdown;
  }
  std::string golden = ReadFile(SourcePath(kGolden));
  REQUIRE(!golden.empty());
  CHECK(markdown == golden);

  CHECK(markdown.rfind(std::string(kPreviewMarker) + "\n", 0) == 0);
  CHECK(markdown.find("**Plan: 3 to add, 4 to change, 2 to destroy, 2 runs to start.**") !=
        std::string::npos);
  // The sections come in a fixed order.
  size_t last = 0;
  for (const char* heading : {"##### Create (2)", "##### Update in place (4)", "##### Replace (1)",
                              "##### Destroy (1)", "##### Runs to start (2)",
                              "##### Models and images that get new versions (2)",
                              "##### Deployments that roll out (2)", "##### Held back (1)",
                              "##### Not carried out here (1)", "<summary>Full plan</summary>"}) {
    size_t at = markdown.find(heading);
    INFO(heading);
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  // A tags-only update of a model is no new version.
  size_t versions = markdown.find("##### Models and images");
  CHECK(markdown.find("model/legacy", versions) > markdown.find("##### Deployments", versions));
  // Text from the specs cannot format the comment: reasons are escaped, values
  // sit in code spans longer than the backtick runs they hold.
  CHECK(markdown.find("register\\_when metrics.accuracy &gt;= 0.9") != std::string::npos);
  CHECK(markdown.find("``\"Iris <classifier> & `friends`\"``") != std::string::npos);
}

TEST_CASE("a preview of a plan without changes says so", "[reconciler][preview]") {
  Plan plan;
  plan.up_to_date = 7;
  std::string markdown = RenderPreviewMarkdown(ExampleInput(&plan));
  CHECK(markdown.find("**No changes. The workspace matches head.**") != std::string::npos);
  CHECK(markdown.find("_7 resources up to date._") != std::string::npos);
  CHECK(markdown.find("#####") == std::string::npos);
  CHECK(markdown.find("Full plan") == std::string::npos);
  CHECK(PreviewJson(ExampleInput(&plan))["summary"] == "No changes. The workspace matches head.");
}

TEST_CASE("a preview of a head that does not compile shows its diagnostics only",
          "[reconciler][preview]") {
  PreviewInput input = ExampleInput(nullptr);
  input.diagnostics =
      "specs/model.yml:3:7: error: unknown field 'pathh'\n"
      "  pathh: azureml://jobs/train/outputs/model\n"
      "  ^~~~~\n"
      "specs/job.yml:1:1: error: a job needs a command\n";
  input.errors = 2;
  std::string markdown = RenderPreviewMarkdown(input);
  CHECK(markdown.rfind(std::string(kPreviewMarker) + "\n#### amlc plan for `feature/two-deployments` @ "
                       "`abc1234` (into `main` @ `def5678`)\n",
                       0) == 0);
  CHECK(markdown.find("**❌ The specs on head do not compile: 2 errors**") != std::string::npos);
  CHECK(markdown.find("```text\n" + input.diagnostics + "```\n") != std::string::npos);
  CHECK(markdown.find("Plan:") == std::string::npos);
  CHECK(markdown.find("#####") == std::string::npos);
  CHECK(markdown.find("<details>") == std::string::npos);

  // Diagnostics that quote a code fence cannot close the comment's own.
  input.diagnostics = "README.md:1:1: error: not a spec\n```yaml\n";
  CHECK(RenderPreviewMarkdown(input).find("````text\n" + input.diagnostics + "````\n") !=
        std::string::npos);
}

TEST_CASE("a preview never exceeds the comment limit", "[reconciler][preview]") {
  Plan plan;
  for (int i = 0; i < 2000; ++i) {
    Action action = MakeAction(i % 2 ? ActionType::kRun : ActionType::kUpdate,
                               "job/step-" + std::to_string(i), "job", {"code snapshot changed: 1 file"});
    if (i % 2 == 0) action.changes.push_back({"command", "\"python train.py\"", "\"python train.py --fast\""});
    plan.actions.push_back(action);
  }
  plan.held_back.push_back({"model/m", "register_when does not hold"});
  PreviewInput input = ExampleInput(&plan);

  std::string markdown = RenderPreviewMarkdown(input, 10000);
  CHECK(markdown.size() <= 10000);
  CHECK(markdown.size() > 9000);  // trimmed to fit, not emptied
  CHECK(EndsWith(markdown, "run `amlc preview --repo ml-team/iris --head "
                           "abc1234567890123456789012345678901234567` to see all of it._\n"));
  CHECK(markdown.find("**Plan: 0 to add, 1000 to change, 0 to destroy, 1000 runs to start.**") !=
        std::string::npos);
  // Both long sections keep some of their entries and say how many they leave out.
  CHECK(markdown.find("##### Update in place (1000)\n\n- `~ job/step-0`") != std::string::npos);
  CHECK(markdown.find("##### Runs to start (1000)\n\n- `> job/step-1`") != std::string::npos);
  CHECK(markdown.find(" more_\n") != std::string::npos);
  CHECK(markdown.find("##### Held back (1)") != std::string::npos);  // the short list stays whole
  CHECK(markdown.find("Full plan") == std::string::npos);      // gave way first

  // The full plan gives way before the sections do.
  Plan example = ExamplePlan();
  PreviewInput small = ExampleInput(&example);
  std::string whole = RenderPreviewMarkdown(small);
  std::string cut = RenderPreviewMarkdown(small, whole.size() - 200);
  CHECK(cut.size() <= whole.size() - 200);
  CHECK(cut.find("<summary>Full plan</summary>") != std::string::npos);
  CHECK(cut.find("more lines\n```") != std::string::npos);
  CHECK(cut.find("##### Not carried out here (1)\n\n- `deployment/edge`") != std::string::npos);
  CHECK(cut.find(kTrimNoteStart) != std::string::npos);

  // Every limit holds, down to ones too small for the heading.
  for (size_t limit : {0, 1, 10, 50, 200, 500, 1000, 2500, 4000, 7000}) {
    INFO(limit);
    CHECK(RenderPreviewMarkdown(input, limit).size() <= limit);
    CHECK(RenderPreviewMarkdown(small, limit).size() <= limit);
  }
  CHECK(RenderPreviewMarkdown(small, whole.size()) == whole);
}

TEST_CASE("a preview is the same text for the same input", "[reconciler][preview]") {
  Plan plan = ExamplePlan();
  Plan copy = plan;
  PreviewInput input = ExampleInput(&plan);
  CHECK(RenderPreviewMarkdown(input) == RenderPreviewMarkdown(ExampleInput(&copy)));
  CHECK(RenderPreviewMarkdown(input, 3000) == RenderPreviewMarkdown(ExampleInput(&copy), 3000));
  CHECK(PreviewJson(input).dump() == PreviewJson(ExampleInput(&copy)).dump());
}

TEST_CASE("a preview as JSON carries the same content", "[reconciler][preview]") {
  Plan plan = ExamplePlan();
  json preview = PreviewJson(ExampleInput(&plan));
  CHECK(preview["repository"] == "ml-team/iris");
  CHECK(preview["pull_request"] == 42);
  CHECK(preview["head"] == json{{"ref", "feature/two-deployments"},
                                {"commit", "abc1234567890123456789012345678901234567"}});
  CHECK(preview["base"]["ref"] == "main");
  CHECK(preview["compiles"] == true);
  CHECK(preview["summary"] == "Plan: 3 to add, 4 to change, 2 to destroy, 2 runs to start.");
  CHECK(preview["counts"] == json{{"add", 3}, {"change", 4}, {"destroy", 2}, {"run", 2}, {"up_to_date", 5}});
  REQUIRE(preview["actions"].size() == plan.actions.size());
  CHECK(preview["actions"][0]["action"] == "run");
  CHECK(preview["actions"][0]["resource"] == "job/train-iris");
  CHECK(preview["actions"][5]["changes"][1] ==
        json{{"field", "idle_time_before_scale_down"}, {"old", ""}, {"new", "\"PT5M\""}});
  CHECK(preview["new_versions"] == json{"model/iris", "image/iris-image"});
  CHECK(preview["rollouts"] == json{"endpoint/iris", "deployment/blue"});
  CHECK(preview["held_back"][0]["resource"] == "model/iris-candidate");
  CHECK(preview["deferred"][0]["resource"] == "deployment/edge");

  PreviewInput broken = ExampleInput(nullptr);
  broken.diagnostics = "a.yml:1:1: error: bad\n";
  broken.errors = 1;
  json failed = PreviewJson(broken);
  CHECK(failed["compiles"] == false);
  CHECK(failed["summary"] == "❌ The specs on head do not compile: 1 error");
  CHECK(failed["diagnostics"] == broken.diagnostics);
  CHECK(failed["errors"] == 1);
  CHECK(failed["actions"].empty());
}

TEST_CASE("the forge client keeps one preview comment per pull request", "[reconciler][preview]") {
  const std::string token = "forge-token-for-tests-7f3a";
  FakeForge forge(token, "/api/v1");
  std::string api = forge.origin() + "/api/v1";
  auto client = ForgeClient::Create(api + "/", token);
  REQUIRE(client.ok());

  SECTION("posted once, then updated in place") {
    std::string first = std::string(kPreviewMarker) + "\nfirst plan";
    auto posted = client->UpsertComment("ml-team/iris", 7, first);
    REQUIRE(posted.ok());
    std::string second = std::string(kPreviewMarker) + "\nsecond plan";
    auto updated = client->UpsertComment("ml-team/iris", 7, second);
    REQUIRE(updated.ok());
    CHECK(*updated == *posted);

    json comments = CommentsOn(forge.Comments(), "ml-team/iris", 7);
    REQUIRE(comments.size() == 1);
    CHECK(comments[0]["id"] == *posted);
    CHECK(comments[0]["body"] == second);
    // Another pull request gets its own comment.
    auto other = client->UpsertComment("ml-team/iris", 8, first);
    REQUIRE(other.ok());
    CHECK(*other != *posted);
  }

  SECTION("found on a later page among many other comments") {
    forge.AddOtherComments(api + "/repos/ml-team/iris/issues/9/comments", token, 150);
    auto posted = client->UpsertComment("ml-team/iris", 9, std::string(kPreviewMarker) + "\nv1");
    REQUIRE(posted.ok());
    forge.AddOtherComments(api + "/repos/ml-team/iris/issues/9/comments", token, 60);
    auto updated = client->UpsertComment("ml-team/iris", 9, std::string(kPreviewMarker) + "\nv2");
    REQUIRE(updated.ok());
    CHECK(*updated == *posted);

    json comments = CommentsOn(forge.Comments(), "ml-team/iris", 9);
    CHECK(comments.size() == 211);
    int previews = 0;
    for (const json& comment : comments) {
      if (comment["body"].get<std::string>().find(kPreviewMarker) != std::string::npos) {
        ++previews;
        CHECK(comment["id"] == *posted);
        CHECK(comment["body"] == std::string(kPreviewMarker) + "\nv2");
      }
    }
    CHECK(previews == 1);
  }

  SECTION("a wrong token is an error that does not show the token") {
    const std::string wrong = "wrong-token-do-not-print-9c1d";
    auto bad = ForgeClient::Create(api, wrong);
    REQUIRE(bad.ok());
    auto result = bad->UpsertComment("ml-team/iris", 7, std::string(kPreviewMarker));
    REQUIRE(!result.ok());
    CHECK(result.status().code() == amlc::StatusCode::kFailedPrecondition);
    const std::string& message = result.status().message();
    CHECK(message.find("401") != std::string::npos);
    CHECK(message.find("Bad credentials") != std::string::npos);
    CHECK(message.find(wrong) == std::string::npos);
    CHECK(message.find(token) == std::string::npos);
    CHECK(forge.Comments().empty());
  }

  SECTION("bad arguments are refused before anything is sent") {
    CHECK(!ForgeClient::Create("ftp://forge.example", token).ok());
    CHECK(!ForgeClient::Create("https://", token).ok());
    CHECK(!ForgeClient::Create(api, "").ok());
    CHECK(client->UpsertComment("no-slash", 1, "x").status().code() ==
          amlc::StatusCode::kInvalidArgument);
    CHECK(client->UpsertComment("ml-team/iris", 0, "x").status().code() ==
          amlc::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("the forge client says when the forge cannot be reached", "[reconciler][preview]") {
  // Port 9 (discard): nothing listens there on a test machine.
  auto client = ForgeClient::Create("http://127.0.0.1:9", "t0ken-unreachable");
  REQUIRE(client.ok());
  auto result = client->UpsertComment("ml-team/iris", 1, "x");
  REQUIRE(!result.ok());
  CHECK(result.status().code() == amlc::StatusCode::kUnavailable);
  CHECK(result.status().message().find("127.0.0.1:9") != std::string::npos);
  CHECK(result.status().message().find("t0ken-unreachable") == std::string::npos);
}
