// `amlc runs download RUN [--output NAME] -o DIR [--overwrite]` on a run applied through the amlc binary.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/cli/cli_fixtures.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

// A job that writes one output folder and prints a line, applied; returns its run id.
std::string ApplyJobWithOutput(SpecDir& dir) {
  WriteSmallSpecs(dir);
  dir.Write("src/write.py", "import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\n"
                            "open(os.path.join(sys.argv[1], 'weights.txt'), 'w').write('0.5\\n')\n"
                            "print('wrote the weights')\n");
  dir.Write("write.yaml", "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                          "name: write\ncode: src\ncommand: python write.py ${{outputs.weights}}\n"
                          "environment: azureml:py:1\noutputs:\n  weights:\n    type: uri_folder\n");
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " >/dev/null")) == 0);
  std::string out;
  REQUIRE(Run(Amlc("runs list -o json --workspace " + dir.str() + "/.amlc"), &out) == 0);
  for (const json& run : json::parse(out)) {
    if (run["job"] == "job/write" || run["job"] == "write") return run["id"];
  }
  FAIL("no run of job write in " + out);
  return "";
}

}  // namespace

TEST_CASE("runs download writes a run's outputs and logs, and refuses to overwrite without --overwrite",
          "[cli][runs-download]") {
  SpecDir dir;
  std::string run = ApplyJobWithOutput(dir);
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  std::string target = dir.str() + "/got";
  std::string out;
  REQUIRE(Run(Amlc("runs download " + run + " -o " + target + " --json" + ws), &out) == 0);
  json written = json::parse(out);
  CHECK(written["run"] == run);
  CHECK(ReadFile(target + "/outputs/weights/weights.txt") == "0.5\n");
  CHECK(ReadFile(target + "/logs/output.log").find("wrote the weights") != std::string::npos);
  CHECK(written["bytes"].get<int64_t>() > 4);

  // Again into the same folder: refused, nothing changed; with --overwrite it goes.
  std::ofstream(target + "/outputs/weights/weights.txt") << "mine\n";
  CHECK(Run(Amlc("runs download " + run + " -o " + target + ws + " 2>&1"), &out) == 1);
  CHECK(out.find("already exist") != std::string::npos);
  CHECK(out.find("--overwrite") != std::string::npos);
  CHECK(ReadFile(target + "/outputs/weights/weights.txt") == "mine\n");
  REQUIRE(Run(Amlc("runs download " + run + " -o " + target + " --overwrite" + ws + " 2>&1"), &out) == 0);
  CHECK(ReadFile(target + "/outputs/weights/weights.txt") == "0.5\n");
  // Not a terminal: the byte progress is plain lines on stderr, the last at 100%.
  CHECK(out.find("download " + run + "  ") != std::string::npos);
  CHECK(out.find("100%") != std::string::npos);

  // One output only: no logs.
  std::string only = dir.str() + "/only";
  REQUIRE(Run(Amlc("runs download " + run + " --output weights -o " + only + ws + " >/dev/null")) == 0);
  CHECK(ReadFile(only + "/outputs/weights/weights.txt") == "0.5\n");
  CHECK_FALSE(std::filesystem::exists(only + "/logs"));

  CHECK(Run(Amlc("runs download " + run + " --output nope -o " + only + ws + " 2>&1"), &out) == 2);
  CHECK(out.find("has no output 'nope'; its outputs: weights") != std::string::npos);
  CHECK(Run(Amlc("runs download no-such-run -o " + only + ws + " 2>/dev/null")) == 2);
}
