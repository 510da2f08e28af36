// `amlc job create -f FILE [--stream] [--rerun] [--json]` through the amlc binary.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/cli/cli_fixtures.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

// Azure's example jobs, beside the repository as the compiler's corpus is.
std::string CorpusJobs() { return SourcePath("../shared/corpus/azureml-jobs/cli/jobs/basics"); }

std::vector<json> Events(const std::string& out) {
  std::vector<json> events;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  return events;
}

}  // namespace

TEST_CASE("job create applies one job and what it needs, streams its log, and exits 1 when the run fails",
          "[cli][job-create]") {
  SpecDir dir;
  WriteSmallSpecs(dir, true);
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  std::string out;
  REQUIRE(Run(Amlc("job create -f " + dir.str() + "/ok.yaml --stream 2>&1"), &out) == 0);
  CHECK(out.find("fine\n") != std::string::npos);  // the script's output, streamed
  CHECK(out.find("job/bad") == std::string::npos);  // the other job is not planned
  REQUIRE(Run(Amlc("runs list -o json" + ws), &out) == 0);
  json runs = json::parse(out);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["job"] == "job/ok");

  // Up to date: nothing runs; --rerun runs it again.
  REQUIRE(Run(Amlc("job create -f " + dir.str() + "/ok.yaml"), &out) == 0);
  CHECK(out.find("No changes") != std::string::npos);
  REQUIRE(Run(Amlc("job create -f " + dir.str() + "/ok.yaml --rerun --json"), &out) == 0);
  std::vector<json> events = Events(out);
  REQUIRE(events.size() >= 3);
  CHECK(events.front()["type"] == "plan");
  CHECK(events.back()["type"] == "summary");
  CHECK(events.back()["exit_code"] == 0);
  REQUIRE(Run(Amlc("runs list -o json" + ws), &out) == 0);
  CHECK(json::parse(out).size() == 2);

  CHECK(Run(Amlc("job create -f " + dir.str() + "/bad.yaml --stream 2>&1"), &out) == 1);
  CHECK(out.find("failed") != std::string::npos);
  CHECK(Run(Amlc("job create -f " + dir.str() + "/compute.yaml 2>&1"), &out) == 2);
  CHECK(out.find("declares no job") != std::string::npos);
  CHECK(Run(Amlc("job create -f " + dir.str() + "/missing.yaml 2>/dev/null")) == 2);
}

TEST_CASE("job create runs Azure ML's own job YAML unchanged: no name, literal inputs, a multi-line command",
          "[cli][job-create]") {
  if (!std::filesystem::exists(CorpusJobs() + "/hello-world-input.yml")) {
    WARN("skipped: no corpus of Azure ML jobs at " + CorpusJobs());
    return;
  }
  SpecDir dir;
  // As Azure ships it: its docker image is not in podman's store here, so the
  // run takes this machine's python3 (the plan warns), as amlc does for any job.
  dir.Write("hello-world-input.yml", ReadFile(CorpusJobs() + "/hello-world-input.yml"));
  std::string out;
  REQUIRE(Run(Amlc("job create --stream -f " + dir.str() + "/hello-world-input.yml 2>&1"), &out) == 0);
  CHECK(out.find("hello world\n42\n") != std::string::npos);
  CHECK(out.find("job/hello-world-input") != std::string::npos);
  CHECK(out.find("library/python:latest") != std::string::npos);  // the warning names the image
}
