#include "runtime/tracking/mlflow_rest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>
#include <variant>

#include "base/clock.h"
#include "runtime/tracking/mlflow_artifacts.h"

namespace amlc::runtime {

namespace {

using nlohmann::json;

// MLflow's limits for one log-batch request.
constexpr size_t kMaxBatchMetrics = 1000;
constexpr size_t kMaxBatchParams = 100;
constexpr size_t kMaxBatchTags = 100;
constexpr size_t kMaxBatchTotal = 1000;

struct RestError {
  int status;
  std::string code;
  std::string message;
};

MlflowRestAnswer Answer(const json& body) { return {200, body.dump()}; }
MlflowRestAnswer Fail(const RestError& error) { return MlflowError(error.status, error.code, error.message); }
RestError Invalid(const std::string& message) { return {400, "INVALID_PARAMETER_VALUE", message}; }
RestError Missing(const std::string& message) { return {404, "RESOURCE_DOES_NOT_EXIST", message}; }
RestError Internal(const Status& status) { return {500, "INTERNAL_ERROR", status.message()}; }

std::string ExperimentName(const std::string& id) { return id == "0" ? "Default" : id; }
std::string ExperimentId(const std::string& name) { return name == "Default" ? "0" : name; }

const char* MlflowStatus(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued: return "SCHEDULED";
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kCompleted: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kCanceled: return "KILLED";
  }
  return "RUNNING";
}

std::string NewRunId() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return text;
}

// A request's fields: the JSON body of a POST, the query of a GET.
struct Request {
  json fields = json::object();

  std::string Text(const char* key) const {
    auto found = fields.find(key);
    if (found == fields.end() || found->is_null()) return "";
    return found->is_string() ? found->get<std::string>() : found->dump();
  }
  bool Has(const char* key) const { return fields.contains(key) && !fields[key].is_null(); }
  int64_t Int(const char* key, int64_t fallback) const {
    if (!Has(key)) return fallback;
    const json& value = fields[key];
    if (value.is_number()) return value.get<int64_t>();
    try {
      return std::stoll(value.get<std::string>());
    } catch (...) {
      return fallback;
    }
  }
};

json ExperimentJson(const std::string& name) {
  return {{"experiment_id", ExperimentId(name)}, {"name", name}, {"artifact_location", ""},
          {"lifecycle_stage", "active"}, {"tags", json::array()}};
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The pairs a store read gave, none when it failed.
Pairs OrNone(StatusOr<Pairs> pairs) { return pairs.ok() ? std::move(pairs.value()) : Pairs{}; }

json PairList(const Pairs& pairs) {
  json out = json::array();
  for (const auto& [key, value] : pairs) out.push_back({{"key", key}, {"value", value}});
  return out;
}

json MetricJson(const MetricPoint& point) {
  json value = std::isnan(point.value) ? json("NaN") : json(point.value);
  return {{"key", point.name}, {"value", value}, {"timestamp", point.timestamp}, {"step", point.step}};
}

json RunInfoJson(const RunRecord& run) {
  std::string name = run.command;
  json info = {{"run_id", run.id},        {"run_uuid", run.id},
               {"run_name", name},        {"experiment_id", ExperimentId(run.experiment)},
               {"user_id", ""},           {"status", MlflowStatus(run.status)},
               {"start_time", run.started_at}, {"artifact_uri", MlflowArtifactUri(run.id)},
               {"lifecycle_stage", "active"}};
  if (run.ended_at) info["end_time"] = run.ended_at;
  return info;
}

json RunJson(StateStore& state, const RunRecord& run) {
  json metrics = json::array();
  if (auto latest = state.LatestMetrics(run.id); latest.ok()) {
    for (const MetricPoint& point : latest.value()) {
      if (point.text.empty()) metrics.push_back(MetricJson(point));
    }
  }
  return {{"info", RunInfoJson(run)},
          {"data", {{"metrics", metrics},
                    {"params", PairList(OrNone(state.RunParams(run.id)))},
                    {"tags", PairList(OrNone(state.RunTags(run.id)))}}},
          {"inputs", json::object()}};
}

// The run a request names, or the error to answer.
std::variant<RunRecord, RestError> FindRun(StateStore& state, const Request& request) {
  std::string id = request.Text("run_id");
  if (id.empty()) id = request.Text("run_uuid");
  if (id.empty()) return Invalid("Missing value for required parameter 'run_id'");
  auto run = state.GetRun(id);
  if (!run.ok()) return Internal(run.status());
  if (!run.value()) return Missing("Run '" + id + "' not found");
  return *run.value();
}

std::variant<std::string, RestError> ExistingExperiment(StateStore& state, const std::string& id) {
  std::string name = ExperimentName(id);
  auto names = state.ListExperiments();
  if (!names.ok()) return Internal(names.status());
  for (const std::string& known : names.value()) {
    if (known == name) return name;
  }
  return Missing("No Experiment with id=" + id + " exists");
}

MlflowRestAnswer CreateExperiment(StateStore& state, const Request& request) {
  std::string name = request.Text("name");
  if (name.empty()) return Fail(Invalid("Missing value for required parameter 'name'"));
  auto existing = ExistingExperiment(state, ExperimentId(name));
  if (std::holds_alternative<std::string>(existing)) {
    return Fail({400, "RESOURCE_ALREADY_EXISTS", "Experiment '" + name + "' already exists."});
  }
  if (Status s = state.EnsureExperiment(name); !s.ok()) return Fail(Internal(s));
  return Answer({{"experiment_id", ExperimentId(name)}});
}

MlflowRestAnswer GetExperiment(StateStore& state, const std::string& id) {
  auto name = ExistingExperiment(state, id);
  if (auto* error = std::get_if<RestError>(&name)) return Fail(*error);
  return Answer({{"experiment", ExperimentJson(std::get<std::string>(name))}});
}

MlflowRestAnswer SearchExperiments(StateStore& state, const Request& request) {
  auto names = state.ListExperiments();
  if (!names.ok()) return Fail(Internal(names.status()));
  json experiments = json::array();
  int64_t max_results = request.Int("max_results", 1000);
  for (const std::string& name : names.value()) {
    if (static_cast<int64_t>(experiments.size()) >= max_results) break;
    experiments.push_back(ExperimentJson(name));
  }
  return Answer({{"experiments", experiments}});
}

Status SetTags(StateStore& state, const std::string& run_id, const json& tags) {
  for (const json& tag : tags) {
    if (!tag.is_object()) continue;
    if (Status s = state.SetRunTag(run_id, tag.value("key", ""), tag.value("value", "")); !s.ok()) return s;
  }
  return Status::Ok();
}

MlflowRestAnswer CreateRun(StateStore& state, const Request& request) {
  std::string experiment_id = request.Text("experiment_id");
  if (experiment_id.empty()) experiment_id = "0";
  std::string name = ExperimentName(experiment_id);
  if (experiment_id == "0") {
    if (Status s = state.EnsureExperiment(name); !s.ok()) return Fail(Internal(s));
  }
  auto existing = ExistingExperiment(state, experiment_id);
  if (auto* error = std::get_if<RestError>(&existing)) return Fail(*error);
  json tags = request.Has("tags") ? request.fields["tags"] : json::array();
  RunRecord run;
  run.id = NewRunId();
  run.experiment = name;
  run.status = RunStatus::kRunning;
  run.compute = "mlflow";
  run.command = request.Text("run_name");
  for (const json& tag : tags) {
    if (!tag.is_object()) continue;
    std::string key = tag.value("key", "");
    if (key == "mlflow.runName" && run.command.empty()) run.command = tag.value("value", "");
    if (key == "mlflow.parentRunId") {
      auto parent = state.GetRun(tag.value("value", ""));
      if (parent.ok() && parent.value()) run.parent_run_id = parent.value()->id;
    }
  }
  if (run.command.empty()) run.command = run.id;
  run.created_at = run.started_at = request.Int("start_time", NowMillis());
  if (Status s = state.InsertRun(run); !s.ok()) return Fail(Internal(s));
  if (Status s = state.SetRunTag(run.id, "mlflow.runName", run.command); !s.ok()) return Fail(Internal(s));
  if (Status s = SetTags(state, run.id, tags); !s.ok()) return Fail(Internal(s));
  return Answer({{"run", RunJson(state, run)}});
}

MlflowRestAnswer UpdateRun(StateStore& state, const Request& request) {
  auto found = FindRun(state, request);
  if (auto* error = std::get_if<RestError>(&found)) return Fail(*error);
  RunRecord run = std::get<RunRecord>(found);
  if (request.Has("status")) {
    auto status = ParseRunStatus(AmlcStatusName(request.Text("status")));
    if (!status) return Fail(Invalid("Invalid value '" + request.Text("status") + "' for parameter 'status'"));
    run.status = *status;
  }
  if (request.Has("end_time")) run.ended_at = request.Int("end_time", 0);
  if (request.Has("run_name")) {
    run.command = request.Text("run_name");
    if (Status s = state.SetRunTag(run.id, "mlflow.runName", run.command); !s.ok()) return Fail(Internal(s));
  }
  if (Status s = state.UpdateRun(run); !s.ok()) return Fail(Internal(s));
  return Answer({{"run_info", RunInfoJson(run)}});
}

// Reads {key, value, timestamp, step} metrics into points, or the error.
std::variant<std::vector<MetricPoint>, RestError> ReadMetrics(const std::string& run_id, const json& metrics) {
  std::vector<MetricPoint> points;
  for (const json& metric : metrics) {
    if (!metric.is_object() || !metric.contains("key") || !metric.contains("value")) {
      return Invalid("A metric needs 'key' and 'value': " + metric.dump());
    }
    MetricPoint point;
    point.run_id = run_id;
    point.name = metric["key"].is_string() ? metric["key"].get<std::string>() : metric["key"].dump();
    const json& value = metric["value"];
    if (value.is_number()) point.value = value.get<double>();
    else if (value.is_string() && value.get<std::string>() == "NaN") point.value = std::nan("");
    else return Invalid("Metric '" + point.name + "' has a value that is not a number: " + value.dump());
    Request fields{metric};
    point.timestamp = fields.Int("timestamp", NowMillis());
    point.step = fields.Int("step", 0);
    points.push_back(std::move(point));
  }
  return points;
}

MlflowRestAnswer LogBatch(StateStore& state, const Request& request) {
  auto found = FindRun(state, request);
  if (auto* error = std::get_if<RestError>(&found)) return Fail(*error);
  const RunRecord& run = std::get<RunRecord>(found);
  json metrics = request.Has("metrics") ? request.fields["metrics"] : json::array();
  json params = request.Has("params") ? request.fields["params"] : json::array();
  json tags = request.Has("tags") ? request.fields["tags"] : json::array();
  if (metrics.size() > kMaxBatchMetrics || params.size() > kMaxBatchParams || tags.size() > kMaxBatchTags ||
      metrics.size() + params.size() + tags.size() > kMaxBatchTotal) {
    return Fail(Invalid("A batch logging request can contain at most 1000 metrics, 100 params and 100 tags, "
                        "1000 in all; got " + std::to_string(metrics.size()) + " metrics, " +
                        std::to_string(params.size()) + " params, " + std::to_string(tags.size()) + " tags"));
  }
  auto points = ReadMetrics(run.id, metrics);
  if (auto* error = std::get_if<RestError>(&points)) return Fail(*error);
  std::vector<std::pair<std::string, std::string>> param_pairs;
  Pairs stored = OrNone(state.RunParams(run.id));
  for (const json& param : params) {
    if (!param.is_object()) continue;
    std::string key = param.value("key", ""), value = param.value("value", "");
    for (const auto& [old_key, old_value] : stored) {
      if (old_key == key && old_value != value) {
        return Fail(Invalid("Changing param values is not allowed. Param with key='" + key +
                            "' was already logged with value='" + old_value + "' for run ID='" + run.id +
                            "'. Attempted logging new value '" + value + "'."));
      }
    }
    param_pairs.emplace_back(key, value);
  }
  if (Status s = state.SetRunParams(run.id, param_pairs); !s.ok()) return Fail(Internal(s));
  auto& list = std::get<std::vector<MetricPoint>>(points);
  if (!list.empty()) {
    if (Status s = state.AppendMetrics(list); !s.ok()) return Fail(Internal(s));
  }
  if (Status s = SetTags(state, run.id, tags); !s.ok()) return Fail(Internal(s));
  return Answer(json::object());
}

MlflowRestAnswer SearchRuns(StateStore& state, const Request& request) {
  RunQuery query;
  std::string filter = request.Text("filter");
  if (!filter.empty()) {
    auto conditions = ParseRunFilter(filter);
    if (!conditions.ok()) return Fail(Invalid("Invalid filter '" + filter + "': " + conditions.status().message()));
    query.conditions = *conditions;
  }
  if (request.Has("order_by") && request.fields["order_by"].is_array() && !request.fields["order_by"].empty()) {
    auto order = ParseRunOrder(request.fields["order_by"][0].get<std::string>());
    if (!order.ok()) return Fail(Invalid(order.status().message()));
    query.order = *order;
  }
  query.limit = static_cast<int>(request.Int("max_results", 1000));
  json ids = request.Has("experiment_ids") ? request.fields["experiment_ids"] : json::array();
  json runs = json::array();
  for (const json& id : ids) {
    query.experiment = ExperimentName(id.is_string() ? id.get<std::string>() : id.dump());
    auto found = state.ListRuns(query);
    if (!found.ok()) return Fail(Internal(found.status()));
    for (const RunRecord& run : found.value()) runs.push_back(RunJson(state, run));
  }
  json answer = json::object();
  if (!runs.empty()) answer["runs"] = runs;
  return Answer(answer);
}

MlflowRestAnswer MetricHistory(StateStore& state, const Request& request) {
  auto found = FindRun(state, request);
  if (auto* error = std::get_if<RestError>(&found)) return Fail(*error);
  std::string key = request.Text("metric_key");
  if (key.empty()) return Fail(Invalid("Missing value for required parameter 'metric_key'"));
  auto points = state.Metrics(std::get<RunRecord>(found).id, key);
  if (!points.ok()) return Fail(Internal(points.status()));
  json metrics = json::array();
  for (const MetricPoint& point : points.value()) metrics.push_back(MetricJson(point));
  return Answer({{"metrics", metrics}});
}

// log-metric, log-parameter and set-tag are one-item log-batch requests.
Request AsBatch(const Request& request, const char* list) {
  json item = request.fields;
  item.erase("run_id");
  item.erase("run_uuid");
  Request batch;
  batch.fields = {{"run_id", request.Text("run_id").empty() ? request.Text("run_uuid") : request.Text("run_id")},
                  {list, json::array({item})}};
  return batch;
}

}  // namespace

MlflowRestAnswer MlflowError(int status, const std::string& code, const std::string& message) {
  return {status, json{{"error_code", code}, {"message", message}}.dump()};
}

std::optional<json> MlflowRequestFields(const std::map<std::string, std::string>& query, const std::string& body) {
  json fields = json::object();
  for (const auto& [key, value] : query) fields[key] = value;
  if (body.empty()) return fields;
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  for (auto& [key, value] : parsed.items()) fields[key] = value;
  return fields;
}

MlflowRestAnswer HandleMlflowRest(StateStore& state, const std::string& method, const std::string& path,
                                  const std::map<std::string, std::string>& query, const std::string& body) {
  std::optional<json> fields = MlflowRequestFields(query, body);
  if (!fields) return Fail(Invalid("The request body is not a JSON object"));
  Request request{*fields};
  bool get = method == "GET";
  if (path == "experiments/create" && !get) return CreateExperiment(state, request);
  if (path == "experiments/get" && get) return GetExperiment(state, request.Text("experiment_id"));
  if (path == "experiments/get-by-name" && get) {
    std::string name = request.Text("experiment_name");
    auto found = GetExperiment(state, ExperimentId(name));
    if (found.status == 404) return Fail(Missing("Could not find experiment with name '" + name + "'"));
    return found;
  }
  if (path == "experiments/search") return SearchExperiments(state, request);
  if (path == "runs/create" && !get) return CreateRun(state, request);
  if (path == "runs/update" && !get) return UpdateRun(state, request);
  if (path == "runs/get" && get) {
    auto found = FindRun(state, request);
    if (auto* error = std::get_if<RestError>(&found)) return Fail(*error);
    return Answer({{"run", RunJson(state, std::get<RunRecord>(found))}});
  }
  if (path == "runs/search" && !get) return SearchRuns(state, request);
  if (path == "runs/log-batch" && !get) return LogBatch(state, request);
  if (path == "runs/log-metric" && !get) return LogBatch(state, AsBatch(request, "metrics"));
  if (path == "runs/log-parameter" && !get) return LogBatch(state, AsBatch(request, "params"));
  if (path == "runs/set-tag" && !get) return LogBatch(state, AsBatch(request, "tags"));
  if (path == "metrics/get-history" && get) return MetricHistory(state, request);
  return {404, json{{"error_code", "ENDPOINT_NOT_FOUND"},
                    {"message", method + " /api/2.0/mlflow/" + path + " is not an endpoint amlc serves"}}
                   .dump()};
}

}  // namespace amlc::runtime
