// MLflow's REST APIs on `amlc server`: a client authenticates as MLflow
// clients do (MLFLOW_TRACKING_TOKEN sent as "Authorization: Bearer"), reads
// need a Reader and writes a Contributor, every call is audited, and
// mlflow-artifacts uploads land in the run's outputs folder. Request and
// answer shapes are those of MLflow's REST API reference.
#include <catch2/catch.hpp>

#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

httplib::Result Post(const WorkspaceServerProcess& server, const std::string& token, const std::string& path,
                     const json& body) {
  return server.Client(token).Post("/api/2.0/mlflow/" + path, body.dump(), "application/json");
}

// A workspace server with a contributor (carl) and a reader (rita).
struct MlflowServer {
  SpecDir dir;
  WorkspaceServerProcess server{dir.str() + "/home"};
  std::string writer = server.UserWithToken("carl", "contributor");
  std::string reader = server.UserWithToken("rita", "reader");
};

// A new run of the Default experiment, created over the API: its id.
std::string NewRun(const WorkspaceServerProcess& server, const std::string& token) {
  auto run = Post(server, token, "runs/create", {{"experiment_id", "0"}});
  REQUIRE(run);
  REQUIRE(run->status == 200);
  return Body(run)["run"]["info"]["run_id"];
}

TEST_CASE("workspace server: an MLflow client logs a run with a contributor's token, a reader reads it",
          "[server][mlflow]") {
  MlflowServer fixture;
  const WorkspaceServerProcess& server = fixture.server;
  const std::string &writer = fixture.writer, &reader = fixture.reader;
  std::string owner = server.UserWithToken("olga", "owner");

  // A reader cannot create; a contributor can: {name} -> {experiment_id}.
  auto refused = Post(server, reader, "experiments/create", {{"name", "diabetes"}});
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(Body(refused)["message"] == "creating an MLflow experiment needs the contributor role; rita is a reader");
  CHECK(Post(server, "", "experiments/create", {{"name", "diabetes"}})->status == 401);
  auto created = Post(server, writer, "experiments/create", {{"name", "diabetes"}});
  REQUIRE(created->status == 200);
  CHECK(Body(created) == json{{"experiment_id", "diabetes"}});

  auto run = Post(server, writer, "runs/create", {{"experiment_id", "diabetes"}, {"run_name", "ridge"}});
  REQUIRE(run->status == 200);
  json info = Body(run)["run"]["info"];
  std::string run_id = info["run_id"];
  CHECK(info["artifact_uri"] == "mlflow-artifacts:/" + run_id);
  json metrics = json::array();
  for (int step = 0; step < 1000; ++step) {
    metrics.push_back({{"key", "loss"}, {"value", 1.0 / (step + 1)}, {"timestamp", 1700000000000 + step}, {"step", step}});
  }
  REQUIRE(Post(server, writer, "runs/log-batch", {{"run_id", run_id}, {"metrics", metrics}})->status == 200);
  CHECK(Post(server, reader, "runs/log-metric", {{"run_id", run_id}, {"key", "x"}, {"value", 1}})->status == 403);

  // Reads, searches included (POSTs in MLflow), need only a reader.
  auto history = server.Client(reader).Get("/api/2.0/mlflow/metrics/get-history?run_id=" + run_id + "&metric_key=loss");
  REQUIRE(history->status == 200);
  REQUIRE(Body(history)["metrics"].size() == 1000);
  CHECK(Body(history)["metrics"][0] == json({{"key", "loss"}, {"value", 1.0}, {"timestamp", 1700000000000}, {"step", 0}}));
  auto found = Post(server, reader, "runs/search", {{"experiment_ids", {"diabetes"}}, {"filter", "metrics.loss < 0.01"}});
  REQUIRE(found->status == 200);
  REQUIRE(Body(found)["runs"].size() == 1);
  CHECK(Body(found)["runs"][0]["info"]["run_id"] == run_id);
  CHECK(server.Client(reader).Get("/api/2.0/mlflow/runs/get?run_id=nope")->status == 404);

  // The calls are in the audit log under their routes, with their users.
  auto audit = server.Client(owner).Get("/api/v1/audit?limit=100");
  REQUIRE(audit->status == 200);
  bool refused_audited = false, created_audited = false;
  for (const json& entry : Body(audit)) {
    refused_audited |= entry["route"] == "/api/2.0/mlflow/experiments/create" && entry["user"] == "rita" &&
                       entry["status"] == 403;
    created_audited |= entry["route"] == "/api/2.0/mlflow/runs/create" && entry["user"] == "carl" &&
                       entry["status"] == 200;
  }
  CHECK(refused_audited);
  CHECK(created_audited);
}

TEST_CASE("workspace server: mlflow-artifacts uploads land in the run's outputs and list and download",
          "[server][mlflow]") {
  MlflowServer fixture;
  const WorkspaceServerProcess& server = fixture.server;
  const std::string &writer = fixture.writer, &reader = fixture.reader;
  std::string run_id = NewRun(server, writer);
  const std::string artifacts = "/api/2.0/mlflow-artifacts/artifacts/";

  // What MlflowArtifactsRepository.log_artifact sends: PUT the file's bytes -> {}.
  auto put = server.Client(writer).Put(artifacts + run_id + "/model/MLmodel", "flavors: {}\n", "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(Body(put) == json::object());
  CHECK(ReadFile(fixture.dir.path() / "home/datastore/runs" / run_id / "outputs/model/MLmodel") == "flavors: {}\n");
  CHECK(server.Client(reader).Put(artifacts + run_id + "/x.txt", "x", "text/plain")->status == 403);
  CHECK(server.Client(writer).Put(artifacts + run_id + "/../escape.txt", "x", "text/plain")->status == 400);
  CHECK(server.Client(writer).Put(artifacts + "no-such-run/x.txt", "x", "text/plain")->status == 404);

  // list_artifacts: GET ?path= -> {files: [{path, is_dir, file_size}]}, names only.
  auto top = server.Client(reader).Get("/api/2.0/mlflow-artifacts/artifacts?path=" + run_id);
  REQUIRE(top->status == 200);
  CHECK(Body(top) == json({{"files", {{{"path", "model"}, {"is_dir", true}}}}}));
  auto inside = server.Client(reader).Get("/api/2.0/mlflow-artifacts/artifacts?path=" + run_id + "/model");
  CHECK(Body(inside) == json({{"files", {{{"path", "MLmodel"}, {"is_dir", false}, {"file_size", 12}}}}}));

  // download_artifacts: GET the file -> its bytes.
  auto got = server.Client(reader).Get(artifacts + run_id + "/model/MLmodel");
  REQUIRE(got->status == 200);
  CHECK(got->body == "flavors: {}\n");
  CHECK(server.Client(reader).Get(artifacts + run_id + "/model/absent")->status == 404);
}

TEST_CASE("workspace server: MLflow's register_model conversation registers a run's model in amlc's registry",
          "[server][mlflow]") {
  MlflowServer fixture;
  const WorkspaceServerProcess& server = fixture.server;
  const std::string &writer = fixture.writer, &reader = fixture.reader;
  std::string run_id = NewRun(server, writer);
  const std::string model_dir = "/api/2.0/mlflow-artifacts/artifacts/" + run_id + "/model/";
  REQUIRE(server.Client(writer).Put(model_dir + "MLmodel", "flavors: {}\n", "text/plain")->status == 200);
  REQUIRE(server.Client(writer).Put(model_dir + "model.pkl", "pickled", "application/octet-stream")->status == 200);

  // POST registered-models/create {name} -> {registered_model: {name, creation_timestamp, ...}}
  CHECK(Post(server, reader, "registered-models/create", {{"name", "ridge"}})->status == 403);
  auto created = Post(server, writer, "registered-models/create", {{"name", "ridge"}});
  REQUIRE(created->status == 200);
  CHECK(Body(created)["registered_model"]["name"] == "ridge");
  // POST model-versions/create {name, source, run_id} -> {model_version: {version: "1", status: READY, ...}}
  auto version = Post(server, writer, "model-versions/create",
                      {{"name", "ridge"}, {"source", "mlflow-artifacts:/" + run_id + "/model"}, {"run_id", run_id}});
  REQUIRE(version->status == 200);
  json model_version = Body(version)["model_version"];
  CHECK(model_version["name"] == "ridge");
  CHECK(model_version["version"] == "1");
  CHECK(model_version["status"] == "READY");
  CHECK(model_version["current_stage"] == "None");
  CHECK(model_version["source"] == "mlflow-artifacts:/" + run_id + "/model");
  CHECK(model_version["run_id"] == run_id);
  CHECK(Post(server, writer, "registered-models/create", {{"name", "ridge"}})->status == 400);
  CHECK(Post(server, writer, "model-versions/create", {{"name", "ridge"}, {"source", "/etc"}})->status == 400);

  // amlc's registry has it: an MLflow model with the run as its lineage, its files stored.
  auto amlc_model = server.Client(reader).Get("/api/v1/models/ridge/versions/1");
  REQUIRE(amlc_model->status == 200);
  INFO(amlc_model->body);
  CHECK(amlc_model->body.find("mlflow_model") != std::string::npos);
  CHECK(amlc_model->body.find(run_id) != std::string::npos);

  // GET model-versions/get, registered-models/get, and the searches.
  auto got = server.Client(reader).Get("/api/2.0/mlflow/model-versions/get?name=ridge&version=1");
  CHECK(Body(got)["model_version"] == model_version);
  auto registered = server.Client(reader).Get("/api/2.0/mlflow/registered-models/get?name=ridge");
  CHECK(Body(registered)["registered_model"]["latest_versions"][0]["version"] == "1");
  auto search = server.Client(reader).Get("/api/2.0/mlflow/model-versions/search?filter=name%3D%27ridge%27");
  REQUIRE(Body(search)["model_versions"].size() == 1);
  auto like = server.Client(reader).Get("/api/2.0/mlflow/registered-models/search?filter=name%20LIKE%20%27ri%25%27");
  REQUIRE(Body(like)["registered_models"].size() == 1);
  auto none = server.Client(reader).Get("/api/2.0/mlflow/registered-models/search?filter=name%3D%27other%27");
  CHECK(Body(none) == json::object());
  CHECK(server.Client(reader).Get("/api/2.0/mlflow/model-versions/get?name=ridge&version=2")->status == 404);
}

}  // namespace
}  // namespace amlc::testing
