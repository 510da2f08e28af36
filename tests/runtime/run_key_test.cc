// A job's run key holds everything that can change its result: a change to
// any of it plans a run and names the part; a change outside it leaves the
// run current and the plan says why. Through the amlc binary, on real runs.
#include <catch2/catch.hpp>

#include <string>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

const char* kJob =
    "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
    "name: greet\ncode: src\ncompute: azureml:local\n";

void WriteBase(SpecDir& dir) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("src/greet.sh", "echo \"$GREETING $NAME\" > outputs/out/greeting.txt\n");
}

std::string Plan(const SpecDir& dir) {
  std::string out;
  Run(Amlc("plan " + dir.str() + " 2>&1"), &out);
  return out;
}

void Apply(const SpecDir& dir) {
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
}

}  // namespace

TEST_CASE("a job's environment variables are in its run key", "[apply][run-key]") {
  SpecDir dir;
  WriteBase(dir);
  std::string job = std::string(kJob) + "command: sh greet.sh\noutputs:\n  out:\n";
  dir.Write("job.yaml", job);
  Apply(dir);
  REQUIRE(Plan(dir).find("No changes.") != std::string::npos);

  dir.Write("job.yaml", job + "environment_variables:\n  GREETING: hello\n  NAME: ada\n");
  std::string added = Plan(dir);
  CHECK(added.find("> job/greet") != std::string::npos);
  CHECK(added.find("environment_variables changed") != std::string::npos);
  Apply(dir);

  // The order they are written in changes nothing.
  dir.Write("job.yaml", job + "environment_variables:\n  NAME: ada\n  GREETING: hello\n");
  CHECK(Plan(dir).find("No changes.") != std::string::npos);

  dir.Write("job.yaml", job + "environment_variables:\n  NAME: ada\n  GREETING: goodbye\n");
  CHECK(Plan(dir).find("environment_variables changed") != std::string::npos);

  // Without them the key is the first run's again: that run is current.
  dir.Write("job.yaml", job);
  CHECK(Plan(dir).find("No changes.") != std::string::npos);
}

TEST_CASE("a declared output and a requirements file edited in place are in the run key", "[apply][run-key]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("requirements.txt", "numpy\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: reqs\nversion: 1\n"
                        "pip_requirements: requirements.txt\n");
  std::string job = std::string(kJob) + "command: sh greet.sh\nenvironment: azureml:reqs:1\noutputs:\n  out:\n";
  dir.Write("job.yaml", job);
  Apply(dir);
  REQUIRE(Plan(dir).find("No changes.") != std::string::npos);

  dir.Write("requirements.txt", "numpy>=1.0\n");
  CHECK(Plan(dir).find("environment_files changed") != std::string::npos);
  dir.Write("requirements.txt", "numpy\n");
  REQUIRE(Plan(dir).find("No changes.") != std::string::npos);

  dir.Write("job.yaml", job + "  extra:\n");
  CHECK(Plan(dir).find("outputs changed") != std::string::npos);
}

TEST_CASE("a change outside the run key leaves the run current and the plan says why", "[apply][run-key]") {
  SpecDir dir;
  WriteBase(dir);
  std::string job = std::string(kJob) + "command: sh greet.sh\noutputs:\n  out:\n";
  dir.Write("job.yaml", job + "limits:\n  timeout: 600\n");
  Apply(dir);
  dir.Write("job.yaml", job + "limits:\n  timeout: 900\nresources:\n  instance_count: 2\n");
  std::string plan = Plan(dir);
  CHECK(plan.find("No changes.") != std::string::npos);
  CHECK(plan.find("Up to date though changed") != std::string::npos);
  CHECK(plan.find("job/greet: limits changed; a run that finished within its limits") != std::string::npos);
  CHECK(plan.find("job/greet: resources changed; amlc's compute targets do not act on it yet") != std::string::npos);
  std::string json;
  Run(Amlc("plan --json " + dir.str()), &json);
  CHECK(json.find("\"unkeyed\"") != std::string::npos);
}

TEST_CASE("the plan names a failed last run and shows an input's old and new value", "[apply][run-key]") {
  SpecDir dir;
  WriteBase(dir);
  dir.Write("src/fit.sh", "test \"$1\" != fail || { echo broken >&2; exit 3; }\n");
  auto job = [](const std::string& alpha) {
    return std::string(kJob) + "command: sh fit.sh ${{inputs.alpha}} ${{inputs.data}}\n"
           "inputs:\n  alpha: " + alpha + "\n  data:\n    type: uri_file\n    path: ./data.csv\n";
  };
  dir.Write("data.csv", "x\n1\n");
  dir.Write("job.yaml", job("fail"));
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) != 0);
  std::string failed = Plan(dir);
  INFO(failed);
  CHECK(failed.find("no run of this job yet") == std::string::npos);
  CHECK(failed.find("its last run with this key, greet-") != std::string::npos);
  CHECK(failed.find(", Failed: exit code 3") != std::string::npos);

  dir.Write("job.yaml", job("0.5"));
  std::string changed = Plan(dir);
  INFO(changed);
  CHECK(changed.find("input 'alpha' changed: fail -> 0.5") != std::string::npos);
  CHECK(changed.find("its last run, greet-") != std::string::npos);
  Apply(dir);
  dir.Write("data.csv", "x\n2\n");
  CHECK(Plan(dir).find("input 'data' changed: the contents of data.csv") != std::string::npos);
}
