// `amlc runs import` of an MLflow file store (mlruns/), laid out as MLflow's
// FileStore writes it: EXPERIMENT/meta.yaml, RUN/meta.yaml, metrics/KEY
// ("timestamp value step" lines), params/KEY, tags/KEY, artifacts/.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

constexpr const char* kParent = "73ed5776f5e04e23be739d46812cb6bd";
constexpr const char* kChild = "1c6b2d5b909041df93e6e00b960de019";

std::string RunMeta(const std::string& id, const std::string& name, int status) {
  return "artifact_uri: file:///home/me/mlruns/1/" + id + "/artifacts\nend_time: 1672364273335\n"
         "entry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: " + id +
         "\nrun_name: " + name + "\nrun_uuid: " + id +
         "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1672364273319\nstatus: " +
         std::to_string(status) + "\ntags: []\nuser_id: me\n";
}

void WriteMlruns(SpecDir& dir) {
  dir.Write("mlruns/0/meta.yaml", "artifact_location: file:///home/me/mlruns/0\nexperiment_id: '0'\n"
                                  "lifecycle_stage: active\nname: Default\n");
  dir.Write("mlruns/1/meta.yaml", "artifact_location: file:///home/me/mlruns/1\ncreation_time: 1672364273202\n"
                                  "experiment_id: '1'\nlast_update_time: 1672364273202\nlifecycle_stage: active\n"
                                  "name: diabetes\n");
  // The child comes first in the folder listing order only by chance: the
  // importer must insert its parent before it either way.
  dir.Write(std::string("mlruns/1/") + kChild + "/meta.yaml", RunMeta(kChild, "fold-1", 4));
  dir.Write(std::string("mlruns/1/") + kChild + "/tags/mlflow.parentRunId", kParent);
  dir.Write(std::string("mlruns/1/") + kParent + "/meta.yaml", RunMeta(kParent, "beautiful-dog-902", 3));
  dir.Write(std::string("mlruns/1/") + kParent + "/params/alpha", "0.5");
  dir.Write(std::string("mlruns/1/") + kParent + "/tags/mlflow.runName", "beautiful-dog-902");
  dir.Write(std::string("mlruns/1/") + kParent + "/tags/dataset", "diabetes");
  dir.Write(std::string("mlruns/1/") + kParent + "/metrics/rmse",
            "1672364273320 0.5 0\n1672364273321 0.28802605849240936 1\n");
  dir.Write(std::string("mlruns/1/") + kParent + "/metrics/train/loss", "1672364273322 nan 0\n");
  dir.Write(std::string("mlruns/1/") + kParent + "/artifacts/model/MLmodel", "flavors: {}\n");
  dir.Write("mlruns/2/meta.yaml", "experiment_id: '2'\nlifecycle_stage: deleted\nname: gone\n");
  dir.Write("mlruns/2/aaaa/meta.yaml", RunMeta("aaaa", "gone", 3));
}

}  // namespace

TEST_CASE("runs import brings an mlruns folder's runs into the workspace, once", "[tracking][import]") {
  SpecDir dir;
  WriteMlruns(dir);
  std::string ws = dir.str() + "/.amlc";
  std::string out;
  REQUIRE(Run(Amlc("runs import " + dir.str() + "/mlruns --workspace " + ws), &out) == 0);
  CHECK(out.find("Imported 2 runs of 2 experiments") != std::string::npos);
  CHECK(out.find("3 metric points, 1 params, 3 tags, 1 artifact files") != std::string::npos);

  json parent = AmlcJson(dir.str(), std::string("runs show ") + kParent);
  CHECK(parent["experiment"] == "diabetes");
  CHECK(parent["status"] == "Completed");
  CHECK(parent["params"]["alpha"] == "0.5");
  CHECK(parent["tags"]["dataset"] == "diabetes");
  CHECK(parent["metrics"]["rmse"] == 0.28802605849240936);
  CHECK(parent["children"] == json::array({kChild}));
  json child = AmlcJson(dir.str(), std::string("runs show ") + kChild);
  CHECK(child["status"] == "Failed");
  CHECK(child["parent"] == kParent);
  CHECK(std::filesystem::exists(ws + "/datastore/runs/" + kParent + "/outputs/model/MLmodel"));

  REQUIRE(Run(Amlc(std::string("metrics ") + kParent + " --csv --workspace " + ws), &out) == 0);
  CHECK(out.find("rmse,0,0.5,1672364273320\nrmse,1,0.28802605849240936,1672364273321\n") != std::string::npos);
  CHECK(out.find("train/loss,0,") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "runs list --where \"params.alpha = 0.5 and attributes.status = FINISHED\"").size() == 1);

  // A second import adds nothing; the deleted experiment never came in.
  REQUIRE(Run(Amlc("runs import " + dir.str() + "/mlruns --workspace " + ws), &out) == 0);
  CHECK(out.find("Imported 0 runs of 2 experiments") != std::string::npos);
  CHECK(out.find("(2 runs were already in the workspace)") != std::string::npos);
  CHECK(AmlcJson(dir.str(), "runs list").size() == 2);

  // A folder that is not a file store is refused with what to give instead.
  REQUIRE(Run(Amlc("runs import " + dir.str() + "/mlruns/1/" + kParent + " --workspace " + ws + " 2>&1"), &out) == 2);
  CHECK(out.find("holds no MLflow experiment") != std::string::npos);
}
