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
