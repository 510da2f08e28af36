// An environment's image is never silently dropped: a job on a target that
// does not run images gets a plan warning naming the environment, the
// target and the interpreter that runs instead, and an environment that
// sets require_image fails the plan.
#include <catch2/catch.hpp>

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
  CHECK(out.find("Warnings:\n  job/train: environment 'slim' names image 'python:3.11-slim', but runs on local "
                 "compute 'box' do not run in images: the job runs with /usr/bin/python3 instead") != std::string::npos);
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
  CHECK(out.find("job/train: environment 'slim' names image 'python:3.11-slim', but runs on local compute 'box' do "
                 "not run in images, and the environment sets require_image: true") != std::string::npos);
  CHECK(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 1);
  CHECK(AmlcJson(dir.str(), "runs list").empty());
}

TEST_CASE("on an ssh target the warning names the host's python3", "[apply][environment]") {
  SpecDir dir;
  WriteSpecs(dir, "name: box\ntype: ssh\nhost: 127.0.0.1\nkey_secret: k\n", "");
  std::string out;
  REQUIRE(Run(Amlc("plan " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("but runs on ssh compute 'box' do not run in images: the job runs with the host's python3 instead") !=
        std::string::npos);
}
