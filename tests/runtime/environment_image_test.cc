// An environment's image is never silently dropped: on the local target a
// run goes into the image with podman (scripts/podman.sh) when podman's
// store has it; where it cannot, the plan warns naming the environment, the
// target and the interpreter that runs instead, and an environment that sets
// require_image fails the plan.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

const char* kJob = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";

void WriteSpecs(SpecDir& dir, const std::string& compute, const std::string& environment) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\n" + compute);
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: slim\nversion: 1\nimage: python:3.11-slim\n" +
                            environment);
  dir.Write("train.yaml", std::string(kJob) + "type: command\nname: train\ncompute: azureml:box\n"
                                              "environment: azureml:slim:1\ncommand: python -c 'print(42)'\n");
}

}  // namespace

TEST_CASE("an environment's image the local target does not run is a plan warning naming the interpreter",
          "[apply][environment]") {
  SpecDir dir;
  WriteSpecs(dir, "name: box\ntype: local\n", "python: /usr/bin/python3\n");
  std::string out;
  REQUIRE(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  // Nothing is pulled, so python:3.11-slim is not there (or podman is not installed at all).
  CHECK(out.find("Warnings:\n  job/train: environment 'slim' names image 'python:3.11-slim', which local compute "
                 "'box' cannot run: ") != std::string::npos);
  CHECK(out.find(": the job runs with /usr/bin/python3 instead") != std::string::npos);
  nlohmann::json plan = AmlcJson(dir.str(), "plan " + dir.str());
  REQUIRE(plan["warnings"].size() == 1);
  CHECK(plan["warnings"][0].value("resource", "") == "job/train");
  // It runs, as the warning says.
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  nlohmann::json runs = AmlcJson(dir.str(), "runs list");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].value("status", "") == "Completed");
}

TEST_CASE("an environment that requires its image fails the plan on a target that cannot run it",
          "[apply][environment]") {
  SpecDir dir;
  WriteSpecs(dir, "name: box\ntype: local\n", "require_image: true\n");
  std::string out;
  CHECK(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) == 1);
  CHECK(out.find("job/train: environment 'slim' names image 'python:3.11-slim', which local compute 'box' cannot "
                 "run: ") != std::string::npos);
  CHECK(out.find(", and the environment sets require_image: true") != std::string::npos);
  CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
  CHECK(AmlcJson(dir.str(), "runs list").empty());
}

TEST_CASE("on an ssh target the warning names the host's python3", "[apply][environment]") {
  SpecDir dir;
  WriteSpecs(dir, "name: box\ntype: ssh\nhost: 127.0.0.1\nkey_secret: k\n", "");
  std::string out;
  REQUIRE(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("which ssh compute 'box' cannot run: runs on ssh hosts do not run in images: the job runs with the "
                 "host's python3 instead") != std::string::npos);
}

TEST_CASE("a run on the local target goes into its environment's image when podman's store has it",
          "[apply][environment][podman]") {
  BusyboxImage image;
  if (!image.missing().empty()) {
    WARN(image.missing() + "; not tested");
    return;
  }
  std::string env = image.env();
  SpecDir dir;
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: box\ntype: local\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: bb\nversion: 1\n"
                        "image: " + BusyboxImage::name() + "\nrequire_image: true\n");
  // No python in the image: the metric is one tracking record written by the shell.
  dir.Write("src/run.sh",
            "cat /etc/amlc-image\n"
            "echo \"{\\\"t\\\":\\\"metric\\\",\\\"run\\\":\\\"$AMLC_RUN_ID\\\",\\\"name\\\":\\\"accuracy\\\","
            "\\\"step\\\":0,\\\"value\\\":0.91,\\\"ts\\\":$(date +%s)000}\" >> \"$AMLC_TRACKING_FILE\"\n"
            "echo weights > \"$1/model.txt\"\n");
  dir.Write("train.yaml", std::string(kJob) + "type: command\nname: train\ncode: src\ncompute: azureml:box\n"
                                              "environment: azureml:bb:1\ncommand: sh run.sh ${{outputs.model}}\n"
                                              "outputs:\n  model:\n");
  std::string out;
  REQUIRE(Run(env + Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Warnings:") == std::string::npos);
  REQUIRE(Run(env + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  nlohmann::json runs = AmlcJson(dir.str(), "runs list");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].value("status", "") == "Completed");
  CHECK(runs[0]["metrics"].value("accuracy", 0.0) == Approx(0.91));
  std::string id = runs[0].value("id", "");
  CHECK(ReadFile(dir.path() / ".amlc/runs" / id / "output.log") == "inside the busybox image\n");
  CHECK(ReadFile(std::filesystem::path(runs[0]["outputs"]["model"].value("path", "")) / "model.txt") == "weights\n");

  // A timeout ends the container too (a shell as its PID 1 ignores the TERM podman passes on).
  dir.Write("train.yaml", std::string(kJob) + "type: command\nname: train\ncode: src\ncompute: azureml:box\n"
                                              "environment: azureml:bb:1\ncommand: echo started; sleep 120\n"
                                              "limits:\n  timeout: 2\n");
  CHECK(Run(env + Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
  runs = AmlcJson(dir.str(), "runs list");
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].value("status", "") == "Canceled");
  CHECK(runs[0].value("error", "") == "timed out after 2 s");
  std::string containers;
  image.Podman("ps --all --quiet", &containers);
  CHECK(containers.empty());
}

TEST_CASE("an environment that gives only a conda file is a plan warning naming the interpreter", "[apply][environment]") {
  SpecDir dir;
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: box\ntype: local\n");
  dir.Write("conda.yaml", "name: c\ndependencies:\n  - python=3.11\n  - numpy\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: condaenv\nversion: 1\nconda_file: conda.yaml\n");
  dir.Write("train.yaml", std::string(kJob) + "type: command\nname: train\ncompute: azureml:box\n"
                                              "environment: azureml:condaenv:1\ncommand: python -c 'print(42)'\n");
  std::string out;
  REQUIRE(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("job/train: environment 'condaenv' gives a conda_file, which amlc does not install") !=
        std::string::npos);
  CHECK(out.find("the job runs with the python3 on this machine's PATH instead") != std::string::npos);
  // With an interpreter named, the conda file only describes it: no warning.
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: condaenv\nversion: 1\nconda_file: conda.yaml\n"
                        "python: /usr/bin/python3\n");
  REQUIRE(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Warnings:") == std::string::npos);
}
