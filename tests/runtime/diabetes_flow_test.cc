// The newcomer's flow of issue 14, end to end through the amlc binary: a
// ridge regression on scikit-learn's diabetes data, trained in an Azure
// curated environment, saved in the MLflow model format, registered only
// when its metric passes, served by a no-code mlflow_model deployment whose
// answers name their lineage, and traced back to the spec commit. The
// training script logs only through mlflow.autolog().
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;
using json = nlohmann::json;

namespace {

// Nothing MLflow-specific is written by hand: autolog logs the fit's params,
// its training metrics and the fitted model (outputs/model, MLflow's format),
// as it does in an Azure ML job.
const char* kTrain = R"PY(import argparse
import mlflow
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
args = parser.parse_args()
mlflow.autolog()
X, y = load_diabetes(return_X_y=True)
Ridge(alpha=args.alpha).fit(X, y)
)PY";

class DiabetesFolder {
 public:
  DiabetesFolder() {
    dir_.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
    dir_.Write("src/train.py", kTrain);
    dir_.Write("train.yaml",
               "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
               "type: command\nname: train-diabetes\nexperiment_name: diabetes\ncompute: azureml:local\n"
               "environment: azureml:AzureML-sklearn-1.5@latest\ncode: ./src\n"
               "command: python train.py --alpha ${{inputs.alpha}}\n"
               "inputs:\n  alpha: 0.1\n");
    dir_.Write("model.yaml",
               "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
               "name: diabetes-model\npath: azureml://jobs/train-diabetes/outputs/artifacts/paths/model/\n"
               "type: mlflow_model\nregister_when: metrics.training_r2_score >= 0.3\n");
    dir_.Write("endpoint.yaml",
               "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\n"
               "name: diabetes\nauth_mode: key\ntraffic:\n  blue: 100\n");
    dir_.Write("deployment.yaml",
               "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
               "name: blue\nendpoint_name: diabetes\nmodel: azureml:diabetes-model@latest\ninstance_count: 1\n");
  }
  ~DiabetesFolder() { Run(Amlc("destroy --auto-approve " + dir_.str() + " > /dev/null 2>&1")); }
  std::string str() const { return dir_.str(); }

 private:
  SpecDir dir_;
};

}  // namespace

TEST_CASE("diabetes: train, register when the metric passes, serve without code, trace back to the commit",
          "[deploy][lineage][curated]") {
  DiabetesFolder folder;
  std::string dir = folder.str();
  REQUIRE(Run("cd " + dir + " && git init -q && git add -A && git -c user.name=t -c user.email=t@example.com "
              "commit -q -m 'ridge on diabetes'") == 0);
  std::string commit;
  REQUIRE(Run("git -C " + dir + " rev-parse HEAD", &commit) == 0);
  commit = commit.substr(0, 40);
  std::string out;
  int applied = Run(Amlc("apply --auto-approve " + dir + " 2>&1"), &out);
  INFO(out);
  REQUIRE(applied == 0);
  CHECK(out.find("registered diabetes-model:1") != std::string::npos);

  // What autolog recorded: the fit's params, its training metrics, the model.
  json runs = AmlcJson(dir, "runs list");
  REQUIRE(runs.size() == 1);
  json run = AmlcJson(dir, "runs show " + runs[0].value("id", ""));
  CHECK(run["params"]["alpha"] == "0.1");
  CHECK(run["params"]["fit_intercept"] == "True");
  CHECK(run["tags"]["estimator_name"] == "Ridge");
  CHECK(run["metrics"]["training_r2_score"].get<double>() > 0.3);
  CHECK(run["metrics"].contains("training_mean_squared_error"));

  json deployments = AmlcJson(dir, "deployments list");
  REQUIRE(deployments.size() == 1);
  std::string key = AmlcJson(dir, "deployments keys blue").value("primary", "");
  std::string answer;
  REQUIRE(Run("curl -s -D - -H 'Content-Type: application/json' -H 'Authorization: Bearer " + key +
                  "' --data '{\"input_data\": [[0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0.0, 0.02, -0.02]]}' " +
                  deployments[0].value("scoring_uri", ""),
              &answer) == 0);
  INFO(answer);
  CHECK(answer.find("HTTP/1.1 200") == 0);
  CHECK(answer.find("x-amlc-models: diabetes-model:1\r\n") != std::string::npos);
  json predictions = json::parse(answer.substr(answer.find("\r\n\r\n") + 4), nullptr, false);
  REQUIRE(predictions.is_array());
  REQUIRE(predictions.size() == 1);
  CHECK(predictions[0].get<double>() > 25);  // the target is a disease progression score, 25 to 346
  CHECK(predictions[0].get<double>() < 346);

  json chain = AmlcJson(dir, "lineage blue");
  INFO(chain.dump(2));
  REQUIRE(chain["models"].size() == 1);
  CHECK(chain["models"][0]["run"]["spec_commit"] == commit);
  // The answer named the same image, by the digest the chain holds, and the deployment.
  std::string digest = chain["image"].value("digest", "");
  REQUIRE(digest.rfind("sha256:", 0) == 0);
  CHECK(answer.find("x-amlc-image: ") != std::string::npos);
  CHECK(answer.find("@" + digest + "\r\n") != std::string::npos);
  CHECK(answer.find("x-amlc-deployment: ") != std::string::npos);
  CHECK(answer.find("/blue\r\n") != std::string::npos);
  CHECK(chain["models"][0]["run"]["job"] == "job/train-diabetes");
}
