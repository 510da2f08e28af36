// MLflow's tracking REST API served by the reconciler's listener, over a real
// SQLite store: a client's conversation as MLflow's REST API reference
// specifies its requests and answers (create experiment, create run,
// log-batch of 1,000 points, get-history, search by metric), and the API
// token in front of it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "reconciler/server/api_server.h"
#include "runtime/serving/endpoint/http_client.h"
#include "runtime/state/state_store.h"
#include "tests/test_support.h"

using namespace amlc;
using namespace amlc::testing;
using nlohmann::json;
using runtime::endpoint::HeaderList;
using runtime::endpoint::HttpClient;

namespace {

constexpr const char* kToken = "mlflow-test-token";

class IdleControl : public reconciler::ReconcilerControl {
 public:
  std::string Branch() const override { return "main"; }
  void RequestPass(const std::string&) override {}
  void RequestPreview(const reconciler::PullRequestEvent&) override {}
  json Status() override { return json::object(); }
  json Syncs(int) override { return json::array(); }
  std::optional<json> Sync(int64_t) override { return std::nullopt; }
};

struct Server {
  Server() {
    auto opened = runtime::OpenSqliteStore(dir.str() + "/state.db");
    REQUIRE(opened.ok());
    store = std::move(opened.value());
    reconciler::ApiServerOptions options;
    options.api_token = kToken;
    options.tracking_store = store.get();
    server = std::make_unique<reconciler::ApiServer>(control, options);
    REQUIRE(server->Start("127.0.0.1", 0).ok());
    client = std::make_unique<HttpClient>("127.0.0.1", server->port(), 2, 10);
  }

  // An answer's status and JSON body.
  std::pair<int, json> Call(const std::string& method, const std::string& path, const json& body = nullptr,
                            const std::string& token = kToken) {
    HeaderList headers = {{"Authorization", "Bearer " + token}};
    runtime::endpoint::HttpRequest request;
    request.method = method;
    request.target = "/api/2.0/mlflow/" + path;
    request.headers = headers;
    if (!body.is_null()) {
      request.body = body.dump();
      request.headers.emplace_back("Content-Type", "application/json");
    }
    auto response = client->Send(request);
    REQUIRE(response.ok());
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  SpecDir dir;
  IdleControl control;
  std::unique_ptr<runtime::StateStore> store;
  std::unique_ptr<reconciler::ApiServer> server;
  std::unique_ptr<HttpClient> client;  // last: closes before the server stops
};

}  // namespace

TEST_CASE("an MLflow client's conversation lands its run in the workspace", "[reconciler][mlflow]") {
  Server s;
  // POST experiments/create {name} -> {experiment_id}
  auto [created_status, created] = s.Call("POST", "experiments/create", {{"name", "diabetes"}});
  REQUIRE(created_status == 200);
  std::string experiment_id = created["experiment_id"];
  // A second create of the name: RESOURCE_ALREADY_EXISTS.
  auto [again_status, again] = s.Call("POST", "experiments/create", {{"name", "diabetes"}});
  CHECK(again_status == 400);
  CHECK(again["error_code"] == "RESOURCE_ALREADY_EXISTS");
  // GET experiments/get-by-name?experiment_name= -> {experiment: {experiment_id, name, lifecycle_stage, ...}}
  auto [by_name_status, by_name] = s.Call("GET", "experiments/get-by-name?experiment_name=diabetes");
  REQUIRE(by_name_status == 200);
  CHECK(by_name["experiment"]["experiment_id"] == experiment_id);
  CHECK(by_name["experiment"]["lifecycle_stage"] == "active");
  CHECK(s.Call("GET", "experiments/get?experiment_id=" + experiment_id).second["experiment"]["name"] == "diabetes");
  CHECK(s.Call("GET", "experiments/get?experiment_id=nope").first == 404);

  // POST runs/create {experiment_id, start_time, tags} -> {run: {info: {run_id, status: RUNNING, ...}, data}}
  auto [run_status, run] = s.Call("POST", "runs/create",
                                  {{"experiment_id", experiment_id}, {"start_time", 1700000000000},
                                   {"run_name", "ridge"}, {"tags", {{{"key", "dataset"}, {"value", "diabetes"}}}}});
  REQUIRE(run_status == 200);
  std::string run_id = run["run"]["info"]["run_id"];
  CHECK(run_id.size() == 32);
  CHECK(run["run"]["info"]["status"] == "RUNNING");
  CHECK(run["run"]["info"]["experiment_id"] == experiment_id);
  CHECK(run["run"]["info"]["run_name"] == "ridge");

  // POST runs/log-batch with 1,000 points of one metric -> {}; then a param and a tag
  json metrics = json::array();
  for (int step = 0; step < 1000; ++step) {
    metrics.push_back({{"key", "loss"}, {"value", 1.0 / (step + 1)}, {"timestamp", 1700000000000 + step}, {"step", step}});
  }
  auto [batch_status, batch] = s.Call("POST", "runs/log-batch", {{"run_id", run_id}, {"metrics", metrics}});
  REQUIRE(batch_status == 200);
  CHECK(batch == json::object());
  CHECK(s.Call("POST", "runs/log-batch",
               {{"run_id", run_id}, {"params", {{{"key", "alpha"}, {"value", "0.5"}}}},
                {"tags", {{{"key", "stage"}, {"value", "dev"}}}}})
            .first == 200);
  // 1,001 metrics are over MLflow's limit.
  metrics.push_back(metrics[0]);
  CHECK(s.Call("POST", "runs/log-batch", {{"run_id", run_id}, {"metrics", metrics}}).second["error_code"] ==
        "INVALID_PARAMETER_VALUE");
  // A param keeps its first value.
  auto [changed_status, changed] =
      s.Call("POST", "runs/log-parameter", {{"run_id", run_id}, {"key", "alpha"}, {"value", "0.9"}});
  CHECK(changed_status == 400);
  CHECK(changed["message"].get<std::string>().find("Changing param values is not allowed") != std::string::npos);
  CHECK(s.Call("POST", "runs/log-metric",
               {{"run_id", run_id}, {"key", "rmse"}, {"value", 0.28802605849240936}, {"timestamp", 1700000001000}, {"step", 0}})
            .first == 200);
  CHECK(s.Call("POST", "runs/set-tag", {{"run_id", run_id}, {"key", "owner"}, {"value", "ana"}}).first == 200);

  // GET metrics/get-history?run_id=&metric_key= -> {metrics: [{key, value, timestamp, step}...]}
  auto [history_status, history] = s.Call("GET", "metrics/get-history?run_id=" + run_id + "&metric_key=loss");
  REQUIRE(history_status == 200);
  REQUIRE(history["metrics"].size() == 1000);
  CHECK(history["metrics"][999] == json({{"key", "loss"}, {"value", 1.0 / 1000}, {"timestamp", 1700000000999}, {"step", 999}}));

  // POST runs/update {run_id, status, end_time} -> {run_info}
  auto [update_status, updated] =
      s.Call("POST", "runs/update", {{"run_id", run_id}, {"status", "FINISHED"}, {"end_time", 1700000002000}});
  REQUIRE(update_status == 200);
  CHECK(updated["run_info"]["status"] == "FINISHED");
  CHECK(updated["run_info"]["end_time"] == 1700000002000);

  // GET runs/get -> the run with its latest metrics, params and tags
  json got = s.Call("GET", "runs/get?run_id=" + run_id).second["run"];
  CHECK(got["data"]["params"] == json::array({{{"key", "alpha"}, {"value", "0.5"}}}));
  CHECK(got["data"]["metrics"].size() == 2);
  bool tagged = false;
  for (const json& tag : got["data"]["tags"]) tagged |= tag == json({{"key", "dataset"}, {"value", "diabetes"}});
  CHECK(tagged);

  // POST runs/search {experiment_ids, filter} -> {runs: [...]}; no match -> {}
  auto [search_status, found] = s.Call("POST", "runs/search",
                                       {{"experiment_ids", {experiment_id}},
                                        {"filter", "metrics.rmse < 0.3 and params.alpha = '0.5'"}});
  REQUIRE(search_status == 200);
  REQUIRE(found["runs"].size() == 1);
  CHECK(found["runs"][0]["info"]["run_id"] == run_id);
  CHECK(s.Call("POST", "runs/search", {{"experiment_ids", {experiment_id}}, {"filter", "metrics.rmse > 0.3"}}).second ==
        json::object());
  CHECK(s.Call("POST", "runs/search", {{"experiment_ids", {experiment_id}}, {"filter", "metrics.rmse >"}})
            .second["error_code"] == "INVALID_PARAMETER_VALUE");

  // The run is the workspace's: the store has it, with its params.
  auto stored = s.store->GetRun(run_id);
  REQUIRE(stored.ok());
  REQUIRE(stored.value());
  CHECK(stored.value()->experiment == "diabetes");
  CHECK(stored.value()->status == runtime::RunStatus::kCompleted);

  // Unknown runs and endpoints answer MLflow's error shape.
  CHECK(s.Call("GET", "runs/get?run_id=0123").second["error_code"] == "RESOURCE_DOES_NOT_EXIST");
  CHECK(s.Call("GET", "registered-models/list").first == 404);
}

TEST_CASE("the MLflow API sits behind the reconciler's API token", "[reconciler][mlflow]") {
  Server s;
  CHECK(s.Call("POST", "experiments/create", {{"name", "x"}}, "wrong").first == 401);
  auto names = s.store->ListExperiments();
  REQUIRE(names.ok());
  CHECK(names->empty());
}
