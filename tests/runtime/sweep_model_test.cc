// A model registered from a sweep's output takes its best trial's files, and
// the outputs a trial declares are part of the sweep's run key.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

// A sweep whose trial writes `outputs/model/alpha.txt` with its alpha; loss
// is smallest for alpha 0.3, so that trial is the best. The command is the
// same whether or not the trial declares the output.
void WriteSweep(SpecDir& dir, bool trial_declares_outputs) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
  dir.Write("src/train.py",
            "import os, sys\nfrom amlc import run\nalpha = float(sys.argv[1])\n"
            "os.makedirs(sys.argv[2], exist_ok=True)\n"
            "open(os.path.join(sys.argv[2], 'alpha.txt'), 'w').write(str(alpha))\n"
            "run.log('loss', abs(alpha - 0.3))\n");
  std::string trial_outputs = trial_declares_outputs ? "  outputs:\n    model:\n      type: custom_model\n" : "";
  dir.Write("sweep.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
            "type: sweep\nname: tune\nexperiment_name: tune\ncompute: azureml:local\n"
            "trial:\n  code: ./src\n  environment: azureml:py:1\n"
            "  command: python train.py ${{search_space.alpha}} outputs/model\n" +
                trial_outputs +
                "search_space:\n  alpha:\n    type: choice\n    values: [0.1, 0.3, 0.9]\n"
                "sampling_algorithm: grid\n"
                "objective:\n  goal: minimize\n  primary_metric: loss\n"
                "limits:\n  max_total_trials: 3\n  max_concurrent_trials: 2\n");
  dir.Write("model.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
            "name: tuned\npath: azureml://jobs/tune/outputs/model\ntype: custom_model\n");
}

}  // namespace

TEST_CASE("a model registered from a sweep's output takes the best trial's files", "[apply][sweep]") {
  SpecDir dir;
  WriteSweep(dir, true);
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("registered tuned:1") != std::string::npos);
  std::filesystem::path download = dir.path() / "downloaded";
  REQUIRE(Run(Amlc("models download tuned:1 -o " + download.string() + " --workspace " + dir.str() + "/.amlc")) ==
          0);
  CHECK(ReadFile(download / "alpha.txt") == "0.3");
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
}

TEST_CASE("outputs added to a sweep's trial change the sweep's run key", "[apply][sweep][run-key]") {
  SpecDir dir;
  WriteSweep(dir, false);
  std::filesystem::remove(dir.path() / "model.yaml");  // it comes once the trial declares its output
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  WriteSweep(dir, true);
  REQUIRE(Run(Amlc("plan " + dir.str()), &out) == 0);
  INFO(out);
  CHECK(out.find("> job/tune") != std::string::npos);
  CHECK(out.find("No changes.") == std::string::npos);
}
