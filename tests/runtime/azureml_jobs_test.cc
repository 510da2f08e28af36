// The real Azure ML example jobs in ../shared/corpus/azureml-jobs, run with
// `amlc apply` on the local target with their specs and scripts unchanged
// (copied byte for byte; README.md lists every job of the corpus and why the
// ones not run here cannot be). Only the workspace around them is this
// machine's: a compute named cpu-cluster (local), Azure's curated
// environment through amlc's built-in catalog, and the data on Azure blob
// storage served by a local HTTP server that AMLC_URL_MIRROR points at, the
// files made from scikit-learn's bundled data sets.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/runtime/file_server.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = SourcePath("../shared/corpus/azureml-jobs/cli/jobs");

// Copies the spec files `specs` of the corpus folder `group` (with its src/)
// into `into`, unchanged, beside a local compute named cpu-cluster.
void CopyJobs(SpecDir& dir, const fs::path& into, const fs::path& group, const std::vector<std::string>& specs) {
  fs::create_directories(dir.path() / into);
  if (fs::exists(group / "src")) fs::copy(group / "src", dir.path() / into / "src", fs::copy_options::recursive);
  for (const std::string& spec : specs) fs::copy_file(group / spec, dir.path() / into / spec);
  dir.Write((into / "compute.yaml").string(), "$schema: compute.schema.json\nname: cpu-cluster\ntype: local\n");
}

// The corpus's blob storage, served from DIR/served/datasets: iris and
// diabetes as the examples read them, made from scikit-learn's copies.
std::string ServeDatasets(SpecDir& dir, const FileServer& server) {
  fs::create_directories(dir.path() / "served/datasets");
  REQUIRE(Run("cd " + dir.str() + "/served/datasets && /usr/bin/python3 -c \""
              "from sklearn.datasets import load_iris, load_diabetes; "
              "f = load_iris(as_frame=True).frame; f['species'] = f.pop('target'); "
              "f.to_csv('iris.csv', index=False); "
              "load_diabetes(as_frame=True, scaled=False).frame.to_csv('diabetes.csv', index=False)\"") == 0);
  return "AMLC_URL_MIRROR='https://azuremlexamples.blob.core.windows.net/=" + server.url("") +
         " wasbs://datasets@azuremlexamples.blob.core.windows.net/=" + server.url("datasets/") + "' ";
}

json OnlyRun(const std::string& dir) {
  json runs = AmlcJson(dir, "runs list");
  REQUIRE(runs.is_array());
  REQUIRE(runs.size() == 1);
  return AmlcJson(dir, "runs show " + runs[0].value("id", ""));
}

// How many runs without a parent `runs` lists, each run checked Completed.
int CompletedTopLevelRuns(const json& runs) {
  REQUIRE(runs.is_array());
  int top_level = 0;
  for (const json& run : runs) {
    CHECK(run.value("status", "") == "Completed");
    if (run.value("id", "").find('.') == std::string::npos) ++top_level;
  }
  return top_level;
}

bool Has(const fs::path& path) { return fs::exists(path); }

}  // namespace

TEST_CASE("Azure's diabetes example trains with mlflow.autolog and records what it logged", "[apply][corpus][mlflow]") {
  if (!fs::exists(kCorpus)) return;  // no corpus beside this checkout
  SpecDir dir;
  FileServer server(dir);
  std::string mirror = ServeDatasets(dir, server);
  CopyJobs(dir, "jobs", kCorpus / "single-step/scikit-learn/diabetes", {"job.yml"});
  std::string out;
  int status = Run(mirror + Amlc("apply --auto-approve " + dir.str() + "/jobs 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(server.log().find("GET /datasets/diabetes.csv 200") != std::string::npos);
  json run = OnlyRun(dir.str() + "/jobs");
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
  fs::path model = dir.path() / "jobs/.amlc/datastore/runs" / run["id"].get<std::string>() / "outputs/model";
  CHECK(Has(model / "MLmodel"));
  CHECK(Has(model / "model.pkl"));
  CHECK(Has(model / "conda.yaml"));
  CHECK(Has(model / "requirements.txt"));
  CHECK(Has(model / "python_env.yaml"));
}

TEST_CASE("Azure's iris example trains an SVC with autolog, its inputs recorded as params", "[apply][corpus][mlflow]") {
  if (!fs::exists(kCorpus)) return;
  SpecDir dir;
  FileServer server(dir);
  std::string mirror = ServeDatasets(dir, server);
  CopyJobs(dir, "jobs", kCorpus / "single-step/scikit-learn/iris", {"job.yml"});
  std::string out;
  int status = Run(mirror + Amlc("apply --auto-approve " + dir.str() + "/jobs 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  json run = OnlyRun(dir.str() + "/jobs");
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
  json found = AmlcJson(dir.str() + "/jobs", "runs list --where \"tags.estimator_name = SVC and params.kernel = rbf\"");
  CHECK(found.size() == 1);
}

TEST_CASE("Azure's model-as-input and model-as-output examples read an MLflow model, one saves it again", "[apply][corpus][mlflow]") {
  if (!fs::exists(kCorpus)) return;
  SpecDir dir;
  // The example's input model (cli/assets/model/mlflow-model) is not in the
  // corpus: make one with the mlflow module at the same relative place.
  CopyJobs(dir, "jobs/basics", kCorpus / "basics", {"hello-model-as-output.yml", "hello-model-as-input.yml"});
  REQUIRE(Run("cd " + dir.str() + " && PYTHONPATH=" + SourcePath("python") + ":" +
              SourcePath("python/fallback") +
              " /usr/bin/python3 -c \"import mlflow.sklearn; from sklearn.linear_model import LinearRegression; "
              "mlflow.sklearn.save_model(LinearRegression().fit([[0], [1]], [1, 3]), 'assets/model/mlflow-model')\""
              " > /dev/null") == 0);
  std::string out;
  // The model lies outside the spec folder, as in the corpus: allowed for this machine.
  int status = Run("AMLC_ALLOWED_ROOTS=" + dir.str() + "/assets " +
                       Amlc("apply --auto-approve " + dir.str() + "/jobs/basics 2>&1"),
                   &out);
  INFO(out);
  REQUIRE(status == 0);
  json runs = AmlcJson(dir.str() + "/jobs/basics", "runs list");
  REQUIRE(runs.size() == 2);
  json run;
  for (const json& listed : runs) {
    json shown = AmlcJson(dir.str() + "/jobs/basics", "runs show " + listed.value("id", ""));
    CHECK(shown["status"] == "Completed");
    if (listed.value("id", "").rfind("hello-model-as-output-", 0) == 0) run = shown;
  }
  REQUIRE(run.is_object());
  CHECK(run["status"] == "Completed");
  fs::path saved = dir.path() / "jobs/basics/.amlc/datastore/runs" / run["id"].get<std::string>() /
                   "outputs/output_folder/my_model";
  CHECK(Has(saved / "MLmodel"));
  CHECK(Has(saved / "model.pkl"));
  CHECK(ReadFile(saved / "MLmodel").find("loader_module: mlflow.sklearn") != std::string::npos);
}

TEST_CASE("Azure's basic example jobs and pipelines run unchanged, a URL input through the mirror",
          "[apply][corpus]") {
  if (!fs::exists(kCorpus)) return;
  SpecDir dir;
  FileServer server(dir);
  std::string mirror = ServeDatasets(dir, server);
  const std::vector<std::string> jobs = {
      "hello-world.yml", "hello-world-org.yml", "hello-world-env-var.yml", "hello-world-input.yml",
      "hello-world-output.yml", "hello-world-output-data.yml", "hello-code.yml", "hello-iris-file.yml",
      "hello-pipeline.yml", "hello-pipeline-io.yml", "hello-pipeline-abc.yml", "hello-pipeline-settings.yml",
      "hello-pipeline-customize-output-folder.yml", "hello-pipeline-customize-output-file.yml",
      "hello-pipeline-default-artifacts.yml"};
  CopyJobs(dir, "basics", kCorpus / "basics", jobs);
  std::string out;
  int status = Run(mirror + Amlc("apply --auto-approve " + dir.str() + "/basics 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  json runs = AmlcJson(dir.str() + "/basics", "runs list");
  CHECK(CompletedTopLevelRuns(runs) == static_cast<int>(jobs.size()));
  CHECK(server.log().find("GET /datasets/iris.csv 200") != std::string::npos);
  std::string iris_run;
  for (const json& run : runs) {
    if (run.value("id", "").rfind("hello-iris-file-", 0) == 0) iris_run = run.value("id", "");
  }
  REQUIRE(!iris_run.empty());
  // The uri_file output is a file inside the step's output folder; the
  // default `artifacts` output is the run's root, outputs/world.txt in it.
  std::string file_step, reader_step;
  for (const json& run : runs) {
    std::string id = run.value("id", "");
    if (id.rfind("hello-pipeline-customize-output-file.hello_world-", 0) == 0) file_step = id;
    if (id.rfind("hello-pipeline-default-artifacts.world_job-", 0) == 0) reader_step = id;
  }
  REQUIRE(!file_step.empty());
  CHECK(ReadFile(dir.path() / "basics/.amlc/datastore/runs" / file_step / "outputs/output/hello_world.txt") == "world\n");
  REQUIRE(!reader_step.empty());
  std::string log;
  Run(Amlc("runs logs " + reader_step + " --workspace " + dir.str() + "/basics/.amlc"), &log);
  CHECK(log.find("world") != std::string::npos);
  CHECK(ReadFile(dir.path() / "basics/.amlc/datastore/runs" / iris_run / "outputs/iris.csv")
            .find("sepal length (cm)") != std::string::npos);
}

TEST_CASE("Azure's serverless pipelines run unchanged beside a local compute named serverless", "[apply][corpus]") {
  if (!fs::exists(kCorpus)) return;
  SpecDir dir;
  const std::vector<std::string> jobs = {
      "hello-pipeline-serverless.yml", "hello-pipeline-io-serverless.yml", "hello-pipeline-abc-serverless.yml",
      "hello-pipeline-settings-serverless.yml", "hello-pipeline-customize-output-folder-serverless.yml",
      "hello-pipeline-customize-output-file-serverless.yml", "hello-pipeline-default-artifacts-serverless.yml"};
  CopyJobs(dir, "basics", kCorpus / "basics", jobs);
  // azureml:serverless is Azure's managed compute; here it is the workspace's own local one.
  dir.Write("basics/serverless.yaml", "$schema: compute.schema.json\nname: serverless\ntype: local\n");
  std::string out;
  int status = Run(Amlc("apply --auto-approve " + dir.str() + "/basics 2>&1"), &out);
  INFO(out);
  REQUIRE(status == 0);
  json runs = AmlcJson(dir.str() + "/basics", "runs list");
  CHECK(CompletedTopLevelRuns(runs) == static_cast<int>(jobs.size()));
}
