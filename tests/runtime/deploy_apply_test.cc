// Deployments on the local target end to end through the amlc binary: the
// quickstart's image served by a real endpoint host and real scoring hosts,
// scored over HTTP with its keys.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

long HostPid(const std::string& dir) {
  std::ifstream in(dir + "/.amlc/endpoints/iris/endpoint-host.pid");
  long pid = 0;
  in >> pid;
  return pid;
}

}  // namespace

TEST_CASE("the quickstart ends with a live endpoint that scores with its key", "[deploy]") {
  QuickstartFolder quickstart;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  CHECK(out.find("rolled out iris-image:1 on 1 replica at http://127.0.0.1:") != std::string::npos);
  std::string body;
  REQUIRE(quickstart.Score(quickstart.Key(), &body) == 200);
  json predictions = json::parse(body, nullptr, false);
  REQUIRE(predictions.is_object());
  CHECK(predictions["predictions"] == json::array({"setosa", "versicolor", "virginica"}));
  CHECK(quickstart.Score("") == 401);
  CHECK(quickstart.Score("not-the-key") == 401);
  json secondary = AmlcJson(quickstart.str(), "deployments keys blue");
  CHECK(quickstart.Score(secondary["secondary"]) == 200);

  // `amlc endpoints invoke` does the same with no key or address in hand, by
  // the traffic split or pinned to a deployment (as az ml online-endpoint invoke).
  std::string invoke = "endpoints invoke iris --request-file " + quickstart.str() + "/sample-request.json --workspace " +
                       quickstart.str() + "/.amlc";
  REQUIRE(Run(Amlc(invoke), &body) == 0);
  CHECK(json::parse(body)["predictions"] == predictions["predictions"]);
  REQUIRE(Run(Amlc(invoke + " --deployment blue"), &body) == 0);
  CHECK(json::parse(body)["predictions"] == predictions["predictions"]);
  CHECK(Run(Amlc(invoke + " --deployment green 2>&1"), &body) == 2);
  CHECK(body.find("has no deployment 'green'") != std::string::npos);

  REQUIRE(quickstart.Apply(&out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);

  // Keys regenerate without a restart: the old primary stops working.
  std::string old_key = quickstart.Key();
  REQUIRE(Run(Amlc("deployments keys blue --regenerate primary --workspace " + quickstart.str() + "/.amlc"), &out) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(quickstart.Score(old_key) == 401);
  CHECK(quickstart.Score(quickstart.Key()) == 200);
}

TEST_CASE("a killed endpoint host is drift that the next apply restores", "[deploy]") {
  QuickstartFolder quickstart;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  long pid = HostPid(quickstart.str());
  REQUIRE(pid > 0);
  kill(static_cast<pid_t>(pid), SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(Run(Amlc("plan " + quickstart.str()), &out) == 0);
  CHECK(out.find("~ endpoint/iris\n      drift: its endpoint host is not running") != std::string::npos);
  CHECK(out.find("deployment/blue") != std::string::npos);
  REQUIRE(quickstart.Apply(&out) == 0);
  CHECK(quickstart.Score(quickstart.Key()) == 200);
  REQUIRE(Run(Amlc("plan " + quickstart.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
}

TEST_CASE("a new image rolls out under load with no failed request", "[deploy]") {
  QuickstartFolder quickstart;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  std::string key = quickstart.Key();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::thread load([&] {
    while (!stop) (quickstart.Score(key) == 200 ? ok : failed)++;
  });
  std::ofstream(quickstart.dir().path() / "score/score.py", std::ios::app) << "# a changed line\n";
  int applied = quickstart.Apply(&out);
  stop = true;
  load.join();
  REQUIRE(applied == 0);
  CHECK(out.find("rolled out iris-image:2") != std::string::npos);
  CHECK(failed == 0);
  CHECK(ok > 0);
  CHECK(AmlcJson(quickstart.str(), "deployments list")[0]["image"] == "iris-image:2");
}

TEST_CASE("a rollout whose replicas never become ready is rolled back", "[deploy]") {
  QuickstartFolder quickstart;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  std::ofstream(quickstart.dir().path() / "deployment.yaml", std::ios::app)
      << "readiness_probe:\n  initial_delay: 1\n  period: 1\n  failure_threshold: 4\n";
  std::ofstream(quickstart.dir().path() / "score/score.py", std::ios::app)
      << "\n\ndef init():\n    raise RuntimeError('model file is corrupt')\n";
  CHECK(quickstart.Apply(&out) != 0);
  CHECK(out.find("failed; what served before keeps serving") != std::string::npos);
  CHECK(quickstart.Score(quickstart.Key()) == 200);
  json blue = AmlcJson(quickstart.str(), "deployments show blue");
  CHECK(blue["image"] == "iris-image:1");
  REQUIRE(Run(Amlc("deployments logs blue --workspace " + quickstart.str() + "/.amlc"), &out) == 0);
  CHECK(out.find("model file is corrupt") != std::string::npos);
}

TEST_CASE("telemetry is recorded and readable by workspace members only", "[deploy]") {
  QuickstartFolder quickstart;
  std::string deployment = ReadFile(quickstart.dir().path() / "deployment.yaml");
  size_t rate = deployment.find("sample_rate: 0.5");
  REQUIRE(rate != std::string::npos);
  deployment.replace(rate, 16, "sample_rate: 1.0");
  std::ofstream(quickstart.dir().path() / "deployment.yaml") << deployment;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  for (int i = 0; i < 3; ++i) REQUIRE(quickstart.Score(quickstart.Key()) == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // flushed at least every second
  std::string ws = " --workspace " + quickstart.str() + "/.amlc";
  REQUIRE(Run("AMLC_USER=carol@example.com " + Amlc("deployments telemetry blue --json" + ws), &out) == 0);
  json records = json::parse(out);
  REQUIRE(records.size() == 3);
  CHECK(records[0]["status"] == 200);
  CHECK(records[0].contains("request_body"));
  CHECK(Run("AMLC_USER=mallory@example.com " + Amlc("deployments telemetry blue" + ws + " 2>&1"), &out) != 0);
  CHECK(out.find("readable by members of workspace quickstart only") != std::string::npos);
}

TEST_CASE("a deployment of a model and scoring code builds its image implicitly", "[deploy]") {
  QuickstartFolder quickstart;
  const fs::path& dir = quickstart.dir().path();
  fs::remove(dir / "image.yaml");
  std::ofstream(dir / "deployment.yaml")
      << "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
         "name: blue\nendpoint_name: iris\nmodel: azureml:iris-classifier@latest\n"
         "code_configuration:\n  code: ./score\n  scoring_script: score.py\n"
         "environment: azureml:sklearn-env:1\ninstance_count: 1\n";
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  json images = AmlcJson(quickstart.str(), "images list");
  REQUIRE(images.size() == 1);
  CHECK(images[0]["name"] == "blue-image");
  std::string body;
  REQUIRE(quickstart.Score(quickstart.Key(), &body) == 200);
  CHECK(body.find("setosa") != std::string::npos);

  // `deployments delete` stops its replicas; the next apply brings it back.
  REQUIRE(Run(Amlc("deployments delete blue --workspace " + quickstart.str() + "/.amlc"), &out) == 0);
  CHECK(AmlcJson(quickstart.str(), "deployments list").empty());
  REQUIRE(quickstart.Apply(&out) == 0);
  CHECK(quickstart.Score(quickstart.Key()) == 200);
}

TEST_CASE("a held-back model leaves the deployment alone and a rollout counts the deployment's replicas",
          "[deploy]") {
  QuickstartFolder quickstart;
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  std::string revision = AmlcJson(quickstart.str(), "deployments show blue").value("revision", "");
  // A new training run whose model register_when holds back: the image stays iris-image:1.
  std::string model = ReadFile(quickstart.dir().path() / "model.yaml");
  model.replace(model.find("metrics.accuracy >= 0.9"), 23, "metrics.accuracy >= 1.5");
  std::ofstream(quickstart.dir().path() / "model.yaml") << model;
  std::ofstream(quickstart.dir().path() / "src/train.py", std::ios::app) << "# a changed line\n";
  REQUIRE(quickstart.Apply(&out) == 0);
  INFO(out);
  CHECK(out.find("held back: metrics.accuracy is ") != std::string::npos);
  CHECK(out.find("rolled out") == std::string::npos);
  CHECK(out.find("up to date after all: iris-image:1 serving at http://127.0.0.1:") != std::string::npos);
  CHECK(AmlcJson(quickstart.str(), "deployments show blue").value("revision", "") == revision);
  // A real rollout: one replica (instance_count 1), not the old one draining beside it.
  std::ofstream(quickstart.dir().path() / "score/score.py", std::ios::app) << "# a changed line\n";
  REQUIRE(quickstart.Apply(&out) == 0);
  CHECK(out.find("rolled out iris-image:2 on 1 replica at http://127.0.0.1:") != std::string::npos);
  REQUIRE(quickstart.Apply(&out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
}

TEST_CASE("every answer names its deployment, image and models and amlc lineage traces them to the commit",
          "[deploy][lineage]") {
  QuickstartFolder quickstart;
  std::string dir = quickstart.str();
  REQUIRE(Run("cd " + dir + " && git init -q && git add -A && git -c user.name=t -c user.email=t@example.com "
              "commit -q -m specs") == 0);
  std::string commit;
  REQUIRE(Run("git -C " + dir + " rev-parse HEAD", &commit) == 0);
  commit = commit.substr(0, 40);
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);

  std::string headers;
  REQUIRE(Run("curl -s -o /dev/null -D - -H 'Content-Type: application/json' -H 'Authorization: Bearer " +
                  quickstart.Key() + "' --data @" + SourcePath("examples/quickstart/sample-request.json") + " " +
                  quickstart.ScoringUri(),
              &headers) == 0);
  INFO(headers);
  json image = AmlcJson(dir, "images show iris-image:1");
  std::string digest = image.value("digest", "");
  REQUIRE(digest.rfind("sha256:", 0) == 0);
  CHECK(headers.find("x-amlc-deployment: iris/blue\r\n") != std::string::npos);
  CHECK(headers.find("x-amlc-image: iris-image:1@" + digest + "\r\n") != std::string::npos);
  CHECK(headers.find("x-amlc-models: iris-classifier:1\r\n") != std::string::npos);

  json chain = AmlcJson(dir, "lineage blue");
  INFO(chain.dump(2));
  CHECK(chain["deployment"]["endpoint"] == "iris");
  CHECK(chain["image"]["digest"] == digest);
  REQUIRE(chain["models"].size() == 1);
  const json& run = chain["models"][0]["run"];
  CHECK(run["job"] == "job/train-iris");
  CHECK(run["spec_commit"] == commit);
  CHECK(run["snapshot_digest"].get<std::string>().size() >= 64);
  std::string text;
  REQUIRE(Run(Amlc("lineage iris-classifier:1 --workspace " + dir + "/.amlc"), &text) == 0);
  CHECK(text.find("commit    " + commit) != std::string::npos);
  REQUIRE(Run(Amlc("lineage " + run["id"].get<std::string>() + " --workspace " + dir + "/.amlc"), &text) == 0);
  CHECK(text.find("snapshot  " + run["snapshot_digest"].get<std::string>()) != std::string::npos);
  CHECK(Run(Amlc("lineage nothing-here --workspace " + dir + "/.amlc 2>&1"), &text) != 0);
  CHECK(text.find("is no deployment, image or model version") != std::string::npos);
}
