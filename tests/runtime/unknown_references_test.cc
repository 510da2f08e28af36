// An azureml: reference to a compute, environment, data asset or model that
// neither the specs nor the workspace hold fails the plan with a
// did-you-mean, never a silent run elsewhere; one the workspace holds (from
// another specs folder, or a registered model) plans and runs. Fixtures are
// written as Azure ML writes them: azureml:NAME, azureml:NAME:VERSION,
// azureml:NAME@latest and plain names.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

const char* kJob = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";

std::string TrainJob(const std::string& extra) {
  return std::string(kJob) + "type: command\nname: train-a\ncommand: echo trained\n" + extra;
}

void WriteCpuCluster(SpecDir& dir) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: cpu-cluster\ntype: local\n");
}

// `amlc plan`'s exit status, with stdout and stderr in `out`.
int Plan(const SpecDir& dir, std::string& out, const std::string& workspace = "") {
  return Run(Amlc("plan " + dir.str() + (workspace.empty() ? "" : " --workspace " + workspace) + " 2>&1"), &out);
}

}  // namespace

TEST_CASE("a job on a compute neither declared nor in the workspace fails the plan", "[apply][references]") {
  for (const char* written : {"azureml:gpu-cluster", "gpu-cluster"}) {
    SpecDir dir;
    WriteCpuCluster(dir);
    dir.Write("train.yaml", TrainJob(std::string("compute: ") + written + "\n"));
    std::string out;
    CHECK(Plan(dir, out) == 1);
    CHECK(out.find("job train-a: compute 'gpu-cluster' is neither in these specs nor in the workspace "
                   "(did you mean 'cpu-cluster'?)") != std::string::npos);
    CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
    nlohmann::json runs = AmlcJson(dir.str(), "runs list");
    CHECK(runs.is_array());
    CHECK(runs.empty());  // nothing ran on local instead
  }
}

TEST_CASE("a compute only the workspace holds is the one a job runs on", "[apply][references]") {
  SpecDir shared;  // another specs folder applied to the same workspace declares it
  shared.Write("compute.yaml", "$schema: compute.schema.json\nname: gpu-cluster\ntype: local\nmax_concurrent: 1\n");
  SpecDir dir;
  std::string workspace = shared.str() + "/.amlc";
  dir.Write("train.yaml", TrainJob("compute: azureml:gpu-cluster\n"));
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + shared.str() + " 2>&1"), &out) == 0);
  CHECK(Plan(dir, out, workspace) == 0);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " --workspace " + workspace + " 2>&1"), &out) == 0);
  nlohmann::json runs = AmlcJson(shared.str(), "runs list");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].value("status", "") == "Completed");
  CHECK(runs[0].value("compute", "") == "local");
}

TEST_CASE("environments, data assets and models the workspace lacks fail the plan", "[apply][references]") {
  SpecDir dir;
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: sklearn-env\nversion: 1\npython: /usr/bin/python3\n");
  dir.Write("weights.txt", "w\n");
  dir.Write("train.yaml", TrainJob("environment: azureml:sklearn-envv:1\n"
                                   "inputs:\n  data:\n    type: uri_folder\n    path: azureml:iris-sample@latest\n"));
  std::string out;
  CHECK(Plan(dir, out) == 1);
  CHECK(out.find("job train-a: environment 'sklearn-envv' is neither in these specs nor in the workspace "
                 "(did you mean 'sklearn-env'?)") != std::string::npos);
  CHECK(out.find("job train-a: data asset 'iris-sample' is neither in these specs nor in the workspace") !=
        std::string::npos);

  // A model registered outside the specs satisfies azureml:NAME:VERSION and @latest; a version it lacks does not.
  SpecDir models;
  std::string workspace = models.str() + "/.amlc";
  models.Write("weights.txt", "w\n");
  REQUIRE(Run(Amlc("models register --name iris --path " + models.str() + "/weights.txt --workspace " + workspace +
                   " 2>&1"), &out) == 0);
  SpecDir image;
  image.Write("score/score.py", "def init():\n    pass\n\ndef run(raw):\n    return raw\n");
  auto image_spec = [](const std::string& model) {
    return "$schema: image.schema.json\nname: iris-image\nmodels:\n  - " + model + "\n"
           "code_configuration:\n  code: ./score\n  scoring_script: score.py\n";
  };
  image.Write("image.yaml", image_spec("azureml:iris@latest"));
  CHECK(Plan(image, out, workspace) == 0);
  image.Write("image.yaml", image_spec("azureml:iris:1"));
  CHECK(Plan(image, out, workspace) == 0);
  image.Write("image.yaml", image_spec("azureml:iris:7"));
  CHECK(Plan(image, out, workspace) == 1);
  CHECK(out.find("image iris-image: model 'iris' has no version 7 in these specs or in the workspace (it has 1)") !=
        std::string::npos);
}
