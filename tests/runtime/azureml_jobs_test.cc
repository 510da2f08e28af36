// The real Azure ML example jobs in ../shared/corpus/azureml-jobs whose
// scripts log through mlflow, run with `amlc apply` on the local target with
// their scripts unchanged. Each spec is copied and changed only where this
// machine cannot follow it: data on Azure blob storage becomes a local copy
// made from scikit-learn's bundled data sets, and the curated environment
// becomes Debian's interpreter (which has scikit-learn, pandas, matplotlib).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = SourcePath("../shared/corpus/azureml-jobs/cli/jobs");

// Copies `job` (a spec beside its src/) into `dir`, with `replacements`
// applied to the spec's text, plus a local compute and environment.
void CopyJob(SpecDir& dir, const fs::path& job, const std::vector<std::pair<std::string, std::string>>& replacements) {
  fs::copy(job.parent_path() / "src", dir.path() / "src", fs::copy_options::recursive);
  std::string spec = ReadFile(job);
  for (const auto& [from, to] : replacements) spec = std::regex_replace(spec, std::regex(from), to);
  spec = std::regex_replace(spec, std::regex("environment: .*"), "environment: azureml:py:1");
  dir.Write(job.filename().string(), spec);
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: cpu-cluster\ntype: local\n");
  dir.Write("env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
}

// Writes scikit-learn's bundled data set as the CSV the example reads.
void WriteCsv(const fs::path& path, const std::string& python) {
  REQUIRE(Run("/usr/bin/python3 -c \"" + python + "\" > " + path.string()) == 0);
}

json OnlyRun(const std::string& dir) {
  json runs = AmlcJson(dir, "runs list");
  REQUIRE(runs.is_array());
  REQUIRE(runs.size() == 1);
  return AmlcJson(dir, "runs show " + runs[0].value("id", ""));
}

bool Has(const fs::path& path) { return fs::exists(path); }

}  // namespace

TEST_CASE("Azure's diabetes example trains with mlflow.autolog and records what it logged", "[apply][corpus][mlflow]") {
  if (!fs::exists(kCorpus)) return;  // no corpus beside this checkout
  SpecDir dir;
  CopyJob(dir, kCorpus / "single-step/scikit-learn/diabetes/job.yml",
          {{"path: https://azuremlexamples.blob.core.windows.net/datasets/diabetes.csv", "path: ./diabetes.csv"}});
  WriteCsv(dir.path() / "diabetes.csv",
           "from sklearn.datasets import load_diabetes; import sys; "
           "load_diabetes(as_frame=True, scaled=False).frame.to_csv(sys.stdout, index=False)");
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  json run = OnlyRun(dir.str());
  CHECK(run["status"] == "Completed");
  CHECK(run["experiment"] == "sklearn-diabetes-example");
  CHECK(run["params"]["fit_intercept"] == "True");
  CHECK(run["params"]["positive"] == "False");
  CHECK(run["tags"]["estimator_name"] == "LinearRegression");
  for (const char* metric : {"training_score", "training_r2_score", "training_mean_squared_error",
                             "training_root_mean_squared_error", "training_mean_absolute_error"}) {
    CHECK(run["metrics"].contains(metric));
  }
  CHECK(run["metrics"]["training_r2_score"].get<double>() > 0.4);
  fs::path model = dir.path() / ".amlc/datastore/runs" / run["id"].get<std::string>() / "outputs/model";
  CHECK(Has(model / "MLmodel"));
  CHECK(Has(model / "model.pkl"));
  CHECK(Has(model / "conda.yaml"));
  CHECK(Has(model / "requirements.txt"));
  CHECK(Has(model / "python_env.yaml"));
}

TEST_CASE("Azure's iris example trains an SVC with autolog, its inputs recorded as params", "[apply][corpus][mlflow]") {
  if (!fs::exists(kCorpus)) return;
  SpecDir dir;
  CopyJob(dir, kCorpus / "single-step/scikit-learn/iris/job.yml",
          {{"path: wasbs://datasets@azuremlexamples.blob.core.windows.net/iris.csv", "path: ./iris.csv"}});
  WriteCsv(dir.path() / "iris.csv",
           "from sklearn.datasets import load_iris; import sys; f = load_iris(as_frame=True).frame; "
           "f['species'] = f.pop('target'); f.to_csv(sys.stdout, index=False)");
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  json run = OnlyRun(dir.str());
  CHECK(run["status"] == "Completed");
  // Inputs of the spec, then what autolog logged from SVC.get_params().
  CHECK(run["params"]["kernel"] == "rbf");
  CHECK(run["params"]["coef0"] == "0.1");
  CHECK(run["params"]["C"] == "0.8");
  CHECK(run["params"]["max_iter"] == "-1");
  CHECK(run["tags"]["estimator_class"] == "sklearn.svm._classes.SVC");
  CHECK(run["metrics"]["training_accuracy_score"].get<double>() > 0.9);
  CHECK(run["metrics"].contains("training_f1_score"));
  // Narrowing by what autolog recorded finds it.
  json found = AmlcJson(dir.str(), "runs list --where \"tags.estimator_name = SVC and params.kernel = rbf\"");
  CHECK(found.size() == 1);
}

TEST_CASE("Azure's model-as-output example loads an MLflow model and saves it again", "[apply][corpus][mlflow]") {
  if (!fs::exists(kCorpus)) return;
  SpecDir dir;
  // The example's input model (cli/assets/model/mlflow-model) is not in the
  // corpus: make one with the mlflow module at the same relative place.
  CopyJob(dir, kCorpus / "basics/hello-model-as-output.yml",
          {{"path: ../../assets/model/mlflow-model", "path: ./assets/model/mlflow-model"}});
  fs::create_directories(dir.path() / "assets/model");
  REQUIRE(Run("cd " + dir.str() + " && PYTHONPATH=" + SourcePath("python") + ":" +
              SourcePath("python/fallback") +
              " /usr/bin/python3 -c \"import mlflow.sklearn; from sklearn.linear_model import LinearRegression; "
              "mlflow.sklearn.save_model(LinearRegression().fit([[0], [1]], [1, 3]), 'assets/model/mlflow-model')\""
              " > /dev/null") == 0);
  std::string out;
  INFO(out);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  json run = OnlyRun(dir.str());
  CHECK(run["status"] == "Completed");
  fs::path saved = dir.path() / ".amlc/datastore/runs" / run["id"].get<std::string>() /
                   "outputs/output_folder/my_model";
  CHECK(Has(saved / "MLmodel"));
  CHECK(Has(saved / "model.pkl"));
  CHECK(ReadFile(saved / "MLmodel").find("loader_module: mlflow.sklearn") != std::string::npos);
}
