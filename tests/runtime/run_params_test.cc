// Params and tags of runs, end to end through the amlc binary: recorded from
// inputs, sweep values and the script's log_param (amlc's module and the
// mlflow one), shown by runs show/list/compare, and queried with --where.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/state/postgres_connection.h"
#include "runtime/workspace/workspace.h"
#include "tests/runtime/state_backends.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

// A local compute target and Debian's interpreter as environment py:1.
void WriteLocalTarget(SpecDir& dir) {
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
}

void WriteJobs(SpecDir& dir) {
  WriteLocalTarget(dir);
  dir.Write("src/train.py",
            "import sys, mlflow\nfrom amlc import run\n"
            "alpha = float(sys.argv[1])\n"
            "run.tag('dataset', 'diabetes')\n"
            "mlflow.log_param('solver', 'svd')\n"
            "mlflow.log_metric('rmse', alpha / 2)\n"
            "mlflow.log_metric('mse', 0.28802605849240936)\n");
  for (const char* alpha : {"0.5", "0.9"}) {
    std::string name = std::string("ridge-") + (alpha[2] == '5' ? "a" : "b");
    dir.Write(name + ".yaml",
              "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
              "name: " + name + "\nexperiment_name: ridge\ncompute: azureml:local\nenvironment: azureml:py:1\n"
              "code: ./src\ncommand: python train.py ${{inputs.alpha}}\n"
              "inputs:\n  alpha: " + alpha + "\n  data:\n    type: uri_file\n    path: ./src/train.py\n");
  }
}

// Points the workspace DIR/.amlc at `location` when it is a PostgreSQL database.
void UseStateLocation(const SpecDir& dir, const std::string& location) {
  if (!amlc::runtime::IsPostgresUrl(location)) return;
  std::filesystem::create_directories(dir.path() / ".amlc");
  std::ofstream(amlc::runtime::StateUrlSettingPath(dir.str() + "/.amlc")) << location << "\n";
}

std::vector<std::string> Ids(const std::string& dir, const std::string& options) {
  std::vector<std::string> ids;
  json runs = AmlcJson(dir, "runs list " + options);
  for (const auto& run : runs.is_array() ? runs : json::array()) ids.push_back(run.value("id", ""));
  return ids;
}

}  // namespace

TEST_CASE("params and tags of runs are shown and queried like metrics", "[apply][tracking][postgresql]") {
  SpecDir dir;
  UseStateLocation(dir, AMLC_EACH_STORE_LOCATION(dir));
  WriteJobs(dir);
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::vector<std::string> all = Ids(dir.str(), "");
  REQUIRE(all.size() == 2);

  // Literal inputs and log_param are params; a file input is not.
  std::vector<std::string> low = Ids(dir.str(), "--where \"params.alpha = 0.5\"");
  REQUIRE(low.size() == 1);
  json shown = AmlcJson(dir.str(), "runs show " + low[0]);
  CHECK(shown["params"] == json({{"alpha", "0.5"}, {"solver", "svd"}}));
  CHECK(shown["tags"]["dataset"] == "diabetes");

  CHECK(Ids(dir.str(), "--where \"tags.dataset = diabetes\"").size() == 2);
  CHECK(Ids(dir.str(), "--where \"tags.dataset = 'iris'\"").empty());
  CHECK(Ids(dir.str(), "--where \"params.alpha > 0.7 and attributes.status = FINISHED\"").size() == 1);
  CHECK(Ids(dir.str(), "--where \"metrics.rmse < 0.3 and params.solver LIKE 's%'\"") == low);
  CHECK(Ids(dir.str(), "--order-by \"params.alpha desc\"").back() == low[0]);
  CHECK(Ids(dir.str(), "--order-by \"params.alpha asc\"").front() == low[0]);

  // An unknown field is a usage error that says what to write.
  REQUIRE(Run(Amlc("runs list --workspace " + dir.str() + "/.amlc --where \"colour.x = red\" 2>&1"), &out) == 2);
  CHECK(out.find("unknown field 'colour' at column 1: use metrics., params., tags. or attributes.") !=
        std::string::npos);

  // runs compare --only-diff: the differing param, not the shared tag.
  REQUIRE(Run(Amlc("runs compare --only-diff " + all[0] + " " + all[1] + " --workspace " + dir.str() + "/.amlc"),
              &out) == 0);
  CHECK(out.find("params.alpha") != std::string::npos);
  CHECK(out.find("metrics.rmse") != std::string::npos);
  CHECK(out.find("tags.dataset") == std::string::npos);
  CHECK(out.find("params.solver") == std::string::npos);
  REQUIRE(Run(Amlc("runs compare " + all[0] + " " + all[1] + " --workspace " + dir.str() + "/.amlc"), &out) == 0);
  CHECK(out.find("tags.dataset") != std::string::npos);

  // Metrics as CSV keep every digit.
  REQUIRE(Run(Amlc("metrics " + low[0] + " --csv --workspace " + dir.str() + "/.amlc"), &out) == 0);
  CHECK(out.find("mse,0,0.28802605849240936,") != std::string::npos);
}

TEST_CASE("a sweep trial's search-space values are its params", "[apply][sweep][tracking]") {
  SpecDir dir;
  WriteLocalTarget(dir);
  dir.Write("src/fit.py", "import sys\nfrom amlc import run\nrun.log('loss', float(sys.argv[1]))\n");
  dir.Write("sweep.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json\n"
            "type: sweep\nname: tune\nexperiment_name: tuning\n"
            "trial:\n  code: ./src\n  command: python fit.py ${{inputs.lr}}\n  environment: azureml:py:1\n"
            "inputs:\n  lr: ${{search_space.lr}}\n  seed: 7\n"
            "search_space:\n  lr:\n    type: choice\n    values: [0.01, 0.5]\n"
            "sampling_algorithm: grid\nobjective:\n  goal: minimize\n  primary_metric: loss\n"
            "limits:\n  max_total_trials: 2\n  max_concurrent_trials: 1\n");
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  std::vector<std::string> trial = Ids(dir.str(), "--where \"params.lr = 0.5\"");
  REQUIRE(trial.size() == 1);
  CHECK(trial[0].find(".trial-") != std::string::npos);
  json shown = AmlcJson(dir.str(), "runs show " + trial[0]);
  CHECK(shown["params"] == json({{"lr", "0.5"}, {"seed", "7"}}));
  // The sweep's best trial is a tag of the sweep run, visible and queryable.
  std::vector<std::string> parent = Ids(dir.str(), "--where \"tags.best_child_run_id LIKE 'tune-%'\"");
  REQUIRE(parent.size() == 1);
  json sweep = AmlcJson(dir.str(), "runs show " + parent[0]);
  CHECK(sweep["tags"]["best_child_run_id"].get<std::string>().find(".trial-0") != std::string::npos);
}

TEST_CASE("amlc state migrate moves a workspace's runs into PostgreSQL, where the workspace then finds them",
          "[apply][tracking][postgresql]") {
  if (PostgresServerUrl().empty()) {
    WARN("no PostgreSQL server given: nothing to test here");
    return;
  }
  SpecDir dir;
  WriteJobs(dir);
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  json before = AmlcJson(dir.str(), "runs list");
  REQUIRE(before.size() == 2);
  std::string shown = AmlcJson(dir.str(), "runs show " + before[0].value("id", "")).dump();

  std::string url = NewPostgresDatabase();
  std::string from = " --from sqlite:" + dir.str() + "/.amlc/state.db --to " + url;
  REQUIRE(Run(Amlc("state migrate" + from + " 2>&1"), &out) == 0);
  CHECK(out.find("copied ") != std::string::npos);
  UseStateLocation(dir, url);
  CHECK(AmlcJson(dir.str(), "runs list") == before);
  CHECK(AmlcJson(dir.str(), "runs show " + before[0].value("id", "")).dump() == shown);
  CHECK(Ids(dir.str(), "--where \"params.alpha > 0.7\"").size() == 1);

  // Copying again into the same database is refused: it holds data now.
  CHECK(Run(Amlc("state migrate" + from + " 2>&1"), &out) == 1);
  CHECK(out.find("already holds data") != std::string::npos);
  CHECK(Run(Amlc("state migrate --from sqlite:/nonexistent.db --to " + url + " 2>&1"), &out) == 2);
}
