// GET routes over the workspace's records, and a run's cancel. Every body is
// what the CLI's --json prints for the same data (runtime/views/record_json.h).

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/clock.h"
#include "runtime/artifacts/registry/lineage.h"
#include "runtime/compute/compute_target.h"
#include "runtime/state/run_filter.h"
#include "runtime/views/record_json.h"
#include "runtime/views/workspace_metrics.h"
#include "server/api_route.h"

namespace amlc::server {

namespace {

using nlohmann::json;
using runtime::WorkspaceRole;

constexpr int kDefaultRunLimit = 100;
constexpr int kMaxRunLimit = 1000;
constexpr size_t kLogChunkBytes = 64 * 1024;
constexpr auto kLogPollInterval = std::chrono::milliseconds(200);

// A whole number in [min, max], or nullopt.
std::optional<int64_t> Whole(const std::string& text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// ?limit=N in [1, max], `fallback` when absent; false (and 400) when malformed.
bool LimitParam(Call& call, int fallback, int max, int& limit) {
  if (!call.HasQuery("limit")) {
    limit = fallback;
    return true;
  }
  auto value = Whole(call.Query("limit"), 1, max);
  if (!value) {
    call.Message(400, "limit must be a whole number from 1 to " + std::to_string(max));
    return false;
  }
  limit = static_cast<int>(*value);
  return true;
}

// The run the path names, or a 404 answered.
std::optional<runtime::RunRecord> PathRun(Call& call) {
  call.target = call.path_params[0];
  auto run = call.workspace.state().GetRun(call.target);
  if (!run.ok()) {
    call.Message(503, run.status().message());
    return std::nullopt;
  }
  if (!run->has_value()) {
    call.Message(404, "no run '" + call.target + "' in this workspace");
    return std::nullopt;
  }
  return **run;
}

// Reads the CLI's filters from the query: experiment, status, where,
// order_by (as --where and --order-by take them). False once a 400 is answered.
bool RunQueryOf(Call& call, runtime::RunQuery& query) {
  query.experiment = call.Query("experiment");
  if (std::string status = call.Query("status"); !status.empty()) {
    query.status = runtime::ParseRunStatus(status);
    if (!query.status) {
      call.Message(400, "unknown status '" + status + "' (Queued, Running, Completed, Failed, Canceled)");
      return false;
    }
  }
  if (std::string where = call.Query("where"); !where.empty()) {
    auto conditions = runtime::ParseRunFilter(where);
    if (!conditions.ok()) {
      call.Message(400, "where: " + conditions.status().message());
      return false;
    }
    query.conditions = *conditions;
  }
  if (std::string order_by = call.Query("order_by"); !order_by.empty()) {
    auto order = runtime::ParseRunOrder(order_by);
    if (!order.ok()) {
      call.Message(400, "order_by: " + order.status().message());
      return false;
    }
    query.order = *order;
  }
  return true;
}

// GET /api/v1/runs: the body is `runs list --json`'s array; a page that is
// not the last one names the next in the X-Next-Cursor header (pass it back
// as ?cursor=). The cursor is the position in the filtered, ordered list.
void ListRuns(Call& call) {
  runtime::RunQuery query;
  if (!RunQueryOf(call, query)) return;
  int limit = 0;
  if (!LimitParam(call, kDefaultRunLimit, kMaxRunLimit, limit)) return;
  int64_t offset = 0;
  if (call.HasQuery("cursor")) {
    auto parsed = Whole(call.Query("cursor"), 0, int64_t{1} << 40);
    if (!parsed) return call.Message(400, "cursor is not one this server gave (take it from X-Next-Cursor)");
    offset = *parsed;
  }
  query.limit = static_cast<int>(offset + limit + 1);  // one more: is there a next page?
  auto runs = call.workspace.state().ListRuns(query);
  if (!runs.ok()) return call.Message(503, runs.status().message());
  json out = json::array();
  size_t end = std::min(runs->size(), static_cast<size_t>(offset + limit));
  for (size_t i = static_cast<size_t>(offset); i < end; ++i) out.push_back(runtime::RunJson(call.workspace, (*runs)[i]));
  if (runs->size() > end) call.response.set_header("X-Next-Cursor", std::to_string(end));
  call.Json(200, out);
}

void ShowRun(Call& call) {
  if (auto run = PathRun(call)) call.Json(200, runtime::RunWithChildrenJson(call.workspace, *run));
}

void RunMetrics(Call& call) {
  auto run = PathRun(call);
  if (!run) return;
  if (call.Query("format") == "csv") {
    auto csv = runtime::MetricPointsCsv(call.workspace.state(), run->id, call.Query("name"));
    if (!csv.ok()) return call.Message(503, csv.status().message());
    call.response.status = 200;
    call.response.set_content(std::move(*csv), "text/csv; charset=utf-8");
    return;
  }
  auto points = runtime::MetricPointsJson(call.workspace.state(), run->id, call.Query("name"));
  if (!points.ok()) return call.Message(503, points.status().message());
  call.JsonText(200, std::move(*points));
}

bool IsActive(runtime::Workspace& workspace, const std::string& run_id) {
  auto now = workspace.state().GetRun(run_id);
  return now.ok() && now->has_value() &&
         ((*now)->status == runtime::RunStatus::kRunning || (*now)->status == runtime::RunStatus::kQueued);
}

// GET /api/v1/runs/{id}/logs: the run's output.log; with follow=true the
// answer is chunked and keeps growing while the run is Queued or Running
// (as `runs logs --follow`), ending once it has ended and all is sent.
void RunLogs(Call& call) {
  auto run = PathRun(call);
  if (!run) return;
  std::string path = call.workspace.run_dir(run->id) + "/output.log";
  bool follow = call.Query("follow") == "true";
  if (!follow) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    call.response.status = 200;
    call.response.set_content(text, "text/plain; charset=utf-8");
    return;
  }
  runtime::Workspace* workspace = &call.workspace;
  std::string run_id = run->id;
  call.response.status = 200;
  call.response.set_chunked_content_provider(
      "text/plain; charset=utf-8", [workspace, run_id, path, offset = std::streamoff{0}](
                                       size_t, httplib::DataSink& sink) mutable {
        for (;;) {
          // Whether the run was still active is read before the file, so
          // the last lines it wrote before ending are sent before the end.
          bool active = IsActive(*workspace, run_id);
          std::ifstream in(path, std::ios::binary);
          in.seekg(offset);
          std::string chunk(kLogChunkBytes, '\0');
          in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
          chunk.resize(static_cast<size_t>(in.gcount()));
          if (!chunk.empty()) {
            offset += static_cast<std::streamoff>(chunk.size());
            return sink.write(chunk.data(), chunk.size());
          }
          if (!active) {
            sink.done();
            return true;
          }
          if (!sink.is_writable()) return false;
          std::this_thread::sleep_for(kLogPollInterval);
        }
      });
}

// GET /api/v1/runs/{id}/snapshot: the code the run ran, as `runs snapshot -o F.zip` writes it.
void RunSnapshot(Call& call) {
  auto run = PathRun(call);
  if (!run) return;
  if (run->snapshot_digest.empty()) return call.Message(404, "run '" + run->id + "' has no code snapshot");
  std::string zip = call.workspace.home() + "/tmp-snapshot-" + std::to_string(getpid()) + "-" +
                    std::to_string(NowMillis()) + "-" + std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())) + ".zip";
  std::filesystem::create_directories(call.workspace.home());
  Status written = call.workspace.snapshots().ExportZip(run->snapshot_digest, zip);
  if (!written.ok()) return call.Message(500, written.message());
  std::ifstream in(zip, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::error_code ignored;
  std::filesystem::remove(zip, ignored);
  call.response.status = 200;
  call.response.set_header("Content-Disposition", "attachment; filename=\"" + run->id + "-snapshot.zip\"");
  call.response.set_content(bytes, "application/zip");
}

void CancelRun(Call& call) {
  auto run = PathRun(call);
  if (!run) return;
  Status status = runtime::CancelRunOnItsTarget(call.workspace, run->id, "canceled by " + call.caller.user +
                                                                            " over the workspace API");
  if (!status.ok()) return call.Message(status.code() == StatusCode::kFailedPrecondition ? 409 : 500, status.message());
  call.Json(200, {{"canceled", run->id}});
}

void ListExperiments(Call& call) {
  auto out = runtime::ExperimentsJson(call.workspace.state());
  if (!out.ok()) return call.Message(503, out.status().message());
  call.Json(200, *out);
}

// ?tag=k=v (repeatable), as `models list --tag k=v`.
std::map<std::string, std::string> TagParams(const httplib::Request& request) {
  std::map<std::string, std::string> tags;
  auto range = request.params.equal_range("tag");
  for (auto it = range.first; it != range.second; ++it) {
    size_t equals = it->second.find('=');
    tags[it->second.substr(0, equals)] = equals == std::string::npos ? "" : it->second.substr(equals + 1);
  }
  return tags;
}

void ListModels(Call& call) {
  runtime::ModelQuery query{call.Query("name"), TagParams(call.request), call.Query("framework")};
  if (!call.path_params.empty()) query.name = call.target = call.path_params[0];
  auto models = call.workspace.state().ListModelVersions(query);
  if (!models.ok()) return call.Message(503, models.status().message());
  if (!call.path_params.empty() && models->empty()) return call.Message(404, "no model '" + query.name + "'");
  json out = json::array();
  for (const auto& model : *models) out.push_back(runtime::ModelJson(model));
  call.Json(200, out);
}

void ShowModelVersion(Call& call) {
  call.target = call.path_params[0] + ":" + call.path_params[1];
  auto version = Whole(call.path_params[1], 1, int64_t{1} << 40);
  if (!version) return call.Message(400, "a model version is a whole number from 1");
  auto model = call.workspace.state().GetModelVersion(call.path_params[0], *version);
  if (!model.ok()) return call.Message(503, model.status().message());
  if (!model->has_value()) return call.Message(404, "no model " + call.target);
  call.Json(200, runtime::ModelJson(**model));
}

void ListImages(Call& call) {
  std::string name = call.path_params.empty() ? call.Query("name") : (call.target = call.path_params[0]);
  auto images = call.workspace.state().ListImages(name, TagParams(call.request));
  if (!images.ok()) return call.Message(503, images.status().message());
  if (!call.path_params.empty() && images->empty()) return call.Message(404, "no image '" + name + "'");
  json out = json::array();
  for (const auto& image : *images) out.push_back(runtime::ImageJson(image));
  call.Json(200, out);
}

void ShowImageVersion(Call& call) {
  call.target = call.path_params[0] + ":" + call.path_params[1];
  auto version = Whole(call.path_params[1], 1, int64_t{1} << 40);
  if (!version) return call.Message(400, "an image version is a whole number from 1");
  auto image = call.workspace.state().GetImage(call.path_params[0], *version);
  if (!image.ok()) return call.Message(503, image.status().message());
  if (!image->has_value()) return call.Message(404, "no image " + call.target);
  call.Json(200, runtime::ImageJson(**image));
}

void ListDeployments(Call& call) { call.Json(200, runtime::DeploymentsJson(call.workspace)); }

void ShowDeployment(Call& call) {
  call.target = call.path_params[0];
  int limit = 0;
  if (!LimitParam(call, 20, 10000, limit)) return;
  auto deployment = runtime::DeploymentJson(call.workspace, call.target, limit);
  if (!deployment) return call.Message(404, "no deployment '" + call.target + "' in this workspace");
  call.Json(200, *deployment);
}

void DeploymentTelemetry(Call& call) {
  call.target = call.path_params[0];
  int limit = 0;
  if (!LimitParam(call, 20, 100000, limit)) return;
  auto deployment = runtime::DeploymentJson(call.workspace, call.target, 0);
  if (!deployment) return call.Message(404, "no deployment '" + call.target + "' in this workspace");
  call.Json(200, runtime::TelemetryJson(call.workspace, deployment->value("endpoint", ""), call.target, limit));
}

// GET /api/v1/endpoints: each endpoint with its deployments' status (the
// rows of `deployments list --json` grouped by endpoint) and its traffic.
void ListEndpoints(Call& call) {
  auto out = runtime::EndpointsJson(call.workspace);
  if (!out.ok()) return call.Message(503, out.status().message());
  call.Json(200, *out);
}

void ListActivities(Call& call) {
  int limit = 0;
  if (!LimitParam(call, 50, 10000, limit)) return;
  auto activities = call.workspace.state().ListActivities(limit);
  if (!activities.ok()) return call.Message(503, activities.status().message());
  json out = json::array();
  for (const auto& activity : *activities) out.push_back(runtime::ActivityJson(activity));
  call.Json(200, out);
}

void ListSyncs(Call& call) {
  int limit = 0;
  if (!LimitParam(call, 50, 1000, limit)) return;
  auto syncs = call.workspace.state().ListSyncs(limit);
  if (!syncs.ok()) return call.Message(503, syncs.status().message());
  json out = json::array();
  for (const auto& sync : *syncs) out.push_back(runtime::SyncJson(sync, false));
  call.Json(200, out);
}

// GET /api/v1/lineage?start=X: `amlc lineage X --json`'s chain.
void Lineage(Call& call) {
  auto chain = runtime::TraceLineage(call.workspace.state(), call.Query("start"));
  if (!chain.ok()) return call.Message(404, chain.status().message());
  call.Json(200, *chain);
}

void ShowSync(Call& call) {
  call.target = call.path_params[0];
  auto id = Whole(call.target, 1, int64_t{1} << 52);
  if (!id) return call.Message(400, "a sync id is a whole number from 1");
  auto sync = call.workspace.state().GetSync(*id);
  if (!sync.ok()) return call.Message(503, sync.status().message());
  if (!sync->has_value()) return call.Message(404, "no sync " + call.target);
  call.Json(200, runtime::SyncJson(**sync, true));
}

// GET /api/v1/status: the workspace at a glance: runs by status, the
// newest sync of a reconciler working on it and its resources' sync status
// and health, the state serial.
void WorkspaceStatus(Call& call) {
  auto counts = call.records.CountRunsByStatus();
  if (!counts.ok()) return call.Message(503, counts.status().message());
  json runs = json::object();
  for (auto status : {runtime::RunStatus::kQueued, runtime::RunStatus::kRunning, runtime::RunStatus::kCompleted,
                      runtime::RunStatus::kFailed, runtime::RunStatus::kCanceled}) {
    auto found = counts->find(runtime::RunStatusName(status));
    runs[runtime::RunStatusName(status)] = found == counts->end() ? 0 : found->second;
  }
  auto syncs = call.workspace.state().ListSyncs(1);
  bool synced = syncs.ok() && !syncs->empty();
  // The newest sync's resources, as the reconciler's own /api/status lists them.
  json resources = json::array();
  if (synced) {
    auto newest = call.workspace.state().GetSync(syncs->front().id);
    if (newest.ok() && newest->has_value()) resources = runtime::SyncJson(**newest, true).value("resources", json::array());
  }
  auto serial = call.workspace.state().StateSerial();
  call.Json(200, {{"workspace", call.workspace.home()},
                  {"state_serial", serial.ok() ? json(*serial) : json()},
                  {"runs", runs},
                  {"last_sync", synced ? runtime::SyncJson(syncs->front(), false) : json()},
                  {"resources", resources.is_null() ? json::array() : resources},
                  {"you", {{"user", call.caller.user}, {"role", runtime::RoleName(call.caller.role)}}}});
}

// GET /metrics: Prometheus text: the server's requests by route and code,
// and the workspace's runs, queue, syncs and reconcile durations.
void PrometheusMetrics(Call& call) {
  PrometheusText out;
  call.requests.Render(out);
  if (Status read = runtime::AppendWorkspaceMetrics(call.workspace.state(), call.records, out); !read.ok()) {
    return call.Message(503, read.message());
  }
  call.response.status = 200;
  call.response.set_content(out.text(), "text/plain; version=0.0.4; charset=utf-8");
}

ApiRoute Read(std::string path, std::string action, RouteHandler handler) {
  return {"GET", std::move(path), WorkspaceRole::kReader, std::move(action), std::move(handler)};
}

}  // namespace

std::vector<ApiRoute> ReadRoutes() {
  return {
      Read("/api/v1/runs", "listing runs", ListRuns),
      Read("/api/v1/runs/{id}", "reading a run", ShowRun),
      Read("/api/v1/runs/{id}/metrics", "reading a run's metrics", RunMetrics),
      Read("/api/v1/runs/{id}/logs", "reading a run's log", RunLogs),
      Read("/api/v1/runs/{id}/snapshot", "downloading a run's snapshot", RunSnapshot),
      {"POST", "/api/v1/runs/{id}/cancel", WorkspaceRole::kContributor, "cancelling a run", CancelRun},
      Read("/api/v1/experiments", "listing experiments", ListExperiments),
      Read("/api/v1/models", "listing models", ListModels),
      Read("/api/v1/models/{name}", "listing a model's versions", ListModels),
      Read("/api/v1/models/{name}/versions/{version}", "reading a model version", ShowModelVersion),
      Read("/api/v1/images", "listing images", ListImages),
      Read("/api/v1/images/{name}", "listing an image's versions", ListImages),
      Read("/api/v1/images/{name}/versions/{version}", "reading an image version", ShowImageVersion),
      Read("/api/v1/endpoints", "listing endpoints", ListEndpoints),
      Read("/api/v1/deployments", "listing deployments", ListDeployments),
      Read("/api/v1/deployments/{name}", "reading a deployment", ShowDeployment),
      Read("/api/v1/deployments/{name}/telemetry", "reading a deployment's telemetry", DeploymentTelemetry),
      Read("/api/v1/activities", "listing activities", ListActivities),
      Read("/api/v1/lineage", "tracing a lineage", Lineage),
      Read("/api/v1/syncs", "listing syncs", ListSyncs),
      Read("/api/v1/syncs/{id}", "reading a sync", ShowSync),
      Read("/api/v1/status", "reading the workspace's status", WorkspaceStatus),
      Read("/metrics", "reading the server's metrics", PrometheusMetrics),
  };
}

}  // namespace amlc::server
