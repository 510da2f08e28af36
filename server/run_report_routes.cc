// What a training script reports about its own run over HTTP, when its
// compute does not share the workspace folder: metrics in batches, params,
// tags, output files, child runs and a child run's end. The engine gives the
// script a run-scoped token (runtime/compute/run_reporting.h) that may call
// only these routes, for its run and that run's child runs.
//
// Retries are safe: a metrics batch carries the client's key for it
// (stored once, StateStore::AppendMetricsBatch), and every other write sets
// a value, so sending it twice leaves the same state.

#include <httplib.h>

#include <filesystem>
#include <fstream>

#include "base/clock.h"
#include "runtime/artifacts/snapshot/tree_file.h"
#include "runtime/compute/tracking_reader.h"
#include "server/api_route.h"

namespace amlc::server {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxBatchPoints = 100000;
constexpr size_t kMaxBatchKeyChars = 200;

// The run the path names, or a 404 answered.
std::optional<runtime::RunRecord> NamedRun(Call& call) {
  call.target = call.path_params[0];
  auto run = call.workspace.state().GetRun(call.target);
  if (!run.ok()) {
    Fail(call, run.status());
    return std::nullopt;
  }
  if (!run->has_value()) {
    call.Message(404, "no run '" + call.target + "' in this workspace");
    return std::nullopt;
  }
  return **run;
}

// A point's fields as the tracking file writes them; "" when they are usable.
std::string PointProblem(const json& point) {
  if (!point.is_object()) return "is not an object";
  if (!point.contains("name") || !point["name"].is_string() || point["name"].get_ref<const std::string&>().empty()) {
    return "has no \"name\"";
  }
  for (const char* key : {"step", "ts"}) {
    if (point.contains(key) && !point[key].is_number_integer()) return std::string("has a \"") + key + "\" that is not an integer";
  }
  bool text = point.contains("text"), value = point.contains("value");
  if (text == value) return "needs exactly one of \"value\" and \"text\"";
  if (value && !point["value"].is_number() && !point["value"].is_string()) return "has a \"value\" that is not a number";
  return "";
}

// POST /api/v1/runs/{id}/metrics {"batch": KEY, "metrics": [{name, step, value|text, ts}]}
void PostMetrics(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  if (!NamedRun(call)) return;
  std::string batch = StringField(body, "batch");
  if (batch.empty() || batch.size() > kMaxBatchKeyChars) {
    return call.Message(400, "the body needs \"batch\": the client's key for this batch (1 to 200 characters), "
                             "the same when the batch is sent again");
  }
  const json& metrics = body.contains("metrics") ? body["metrics"] : json();
  if (!metrics.is_array() || metrics.size() > kMaxBatchPoints) {
    return call.Message(400, "the body needs \"metrics\": an array of at most 100000 points");
  }
  std::vector<runtime::MetricPoint> points;
  points.reserve(metrics.size());
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (std::string problem = PointProblem(metrics[i]); !problem.empty()) {
      return call.Message(400, "metrics[" + std::to_string(i) + "] " + problem);
    }
    points.push_back(runtime::MetricPointOf(metrics[i], call.target));
    if (points.back().timestamp == 0) points.back().timestamp = NowMillis();
  }
  auto stored = call.workspace.state().AppendMetricsBatch(call.target, batch, points);
  if (!stored.ok()) return Fail(call, stored.status());
  call.Json(200, {{"batch", batch}, {"stored", *stored ? points.size() : 0}, {"duplicate", !*stored}});
}

// The body's object `key` of string values, or a 400 answered.
std::optional<std::vector<std::pair<std::string, std::string>>> StringPairs(Call& call, const char* key) {
  json body;
  if (!ObjectBody(call, body)) return std::nullopt;
  if (!body.contains(key) || !body[key].is_object()) {
    call.Message(400, std::string("the body needs \"") + key + "\": an object of strings");
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [name, value] : body[key].items()) {
    if (!value.is_string()) {
      call.Message(400, std::string(key) + "." + name + " is not a string");
      return std::nullopt;
    }
    pairs.emplace_back(name, value.get<std::string>());
  }
  return pairs;
}

// POST /api/v1/runs/{id}/params {"params": {"lr": "0.1"}}
void PostParams(Call& call) {
  auto params = StringPairs(call, "params");
  if (!params || !NamedRun(call)) return;
  if (Status set = call.workspace.state().SetRunParams(call.target, *params); !set.ok()) return Fail(call, set);
  call.Json(200, {{"params", params->size()}});
}

// POST /api/v1/runs/{id}/tags {"tags": {"framework": "sklearn"}}
void PostTags(Call& call) {
  auto tags = StringPairs(call, "tags");
  if (!tags || !NamedRun(call)) return;
  for (const auto& [key, value] : *tags) {
    if (Status set = call.workspace.state().SetRunTag(call.target, key, value); !set.ok()) return Fail(call, set);
  }
  call.Json(200, {{"tags", tags->size()}});
}

// Writes beside and renames into place, so a reader never sees half a file.
Status WriteOutput(const std::string& path, const std::string& bytes) {
  std::error_code error;
  fs::create_directories(fs::path(path).parent_path(), error);
  std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status(StatusCode::kUnavailable, "cannot write " + partial);
  }
  fs::rename(partial, path, error);
  if (error) return Status(StatusCode::kUnavailable, "cannot move " + partial + " into place: " + error.message());
  return Status::Ok();
}

// PUT /api/v1/runs/{id}/outputs/{path}: the body is the file. (amlc's Python
// module sends a child run's files to its top-level run, under
// _children/<child>/, where the tracking file's "file" records put them.)
void PutOutput(Call& call) {
  if (!NamedRun(call)) return;
  const std::string& relative = call.path_params[1];
  if (!runtime::snapshot::IsSafeRelativePath(relative) || relative.find('\\') != std::string::npos) {
    return call.Message(400, "'" + relative + "' is not a relative path inside the run's outputs (no '..', no '/' first)");
  }
  std::string path = call.workspace.run_outputs(call.target) + "/" + relative;
  if (Status written = WriteOutput(path, call.request.body); !written.ok()) return Fail(call, written);
  call.Json(200, {{"path", "outputs/" + relative}, {"size", call.request.body.size()}});
}

bool IsChildSuffix(const std::string& suffix) {
  return !suffix.empty() && suffix.size() <= 200 &&
         suffix.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
}

// POST /api/v1/runs/{id}/children {"id": "<id>.<suffix>", "name": "trial 1"}:
// starts a child run; one that exists under this run already is answered 200.
void PostChild(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  auto parent = NamedRun(call);
  if (!parent) return;
  std::string id = StringField(body, "id");
  std::string prefix = parent->id + ".";
  if (id.rfind(prefix, 0) != 0 || !IsChildSuffix(id.substr(prefix.size()))) {
    return call.Message(400, "\"id\" must be \"" + prefix + "SUFFIX\", SUFFIX of letters, digits, _ and -");
  }
  auto existing = call.workspace.state().GetRun(id);
  if (!existing.ok()) return Fail(call, existing.status());
  if (existing->has_value()) {
    if ((*existing)->parent_run_id != parent->id) return call.Message(409, "run " + id + " exists with another parent");
    return call.Json(200, {{"id", id}, {"created", false}});
  }
  std::string name = StringField(body, "name");
  runtime::RunRecord child = runtime::ChildRunOf(*parent, id, name.empty() ? id.substr(prefix.size()) : name, NowMillis());
  if (Status inserted = call.workspace.state().InsertRun(child); !inserted.ok()) return Fail(call, inserted);
  call.Json(201, {{"id", id}, {"created", true}});
}

// POST /api/v1/runs/{id}/status {"status": "Completed"|"Failed", "message"}:
// a child run's end. A top-level run ends with its command, which the
// engine follows.
void PostStatus(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  auto run = NamedRun(call);
  if (!run) return;
  if (run->parent_run_id.empty()) {
    return call.Message(409, "run " + run->id + " is a top-level run: it ends when its command exits");
  }
  std::string status = StringField(body, "status");
  if (status != "Completed" && status != "Failed") return call.Message(400, "\"status\" must be Completed or Failed");
  run->status = *runtime::ParseRunStatus(status);
  run->error = StringField(body, "message");
  run->ended_at = NowMillis();
  if (Status updated = call.workspace.state().UpdateRun(*run); !updated.ok()) return Fail(call, updated);
  call.Json(200, {{"id", run->id}, {"status", status}});
}

}  // namespace

bool RunTokenMayCall(const ApiRoute& route, const std::vector<std::string>& path_params,
                     const runtime::Caller& caller) {
  if (caller.run_id.empty()) return true;
  if (!route.run_scoped || path_params.empty()) return false;
  const std::string& run = path_params[0];
  return run == caller.run_id || run.rfind(caller.run_id + ".", 0) == 0;
}

std::vector<ApiRoute> RunReportRoutes() {
  constexpr runtime::WorkspaceRole kContributor = runtime::WorkspaceRole::kContributor;
  return {
      {"POST", "/api/v1/runs/{id}/metrics", kContributor, "logging a run's metrics", PostMetrics, true},
      {"POST", "/api/v1/runs/{id}/params", kContributor, "logging a run's params", PostParams, true},
      {"POST", "/api/v1/runs/{id}/tags", kContributor, "tagging a run", PostTags, true},
      {"PUT", "/api/v1/runs/{id}/outputs/{path+}", kContributor, "uploading a run's output", PutOutput, true},
      {"POST", "/api/v1/runs/{id}/children", kContributor, "starting a child run", PostChild, true},
      {"POST", "/api/v1/runs/{id}/status", kContributor, "ending a child run", PostStatus, true},
  };
}

}  // namespace amlc::server
