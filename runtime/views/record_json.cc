#include "runtime/views/record_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "base/clock.h"
#include "base/time.h"
#include "runtime/artifacts/registry/image_packaging.h"
#include "runtime/deploy/local_endpoints.h"

namespace amlc::runtime {

namespace {

using nlohmann::json;

json PairsJson(const StatusOr<std::vector<std::pair<std::string, std::string>>>& pairs) {
  json out = json::object();
  if (pairs.ok()) {
    for (const auto& [key, value] : pairs.value()) out[key] = value;
  }
  return out;
}

json Member(const json& object, const char* key, json fallback) {
  return object.is_object() && object.contains(key) ? object[key] : fallback;
}

// The JSON lines of a file that are objects, the newest `limit` kept, each
// passing `keep`.
template <typename Keep>
std::vector<json> LastObjects(const std::string& path, int limit, Keep keep) {
  std::vector<json> records;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    json record = json::parse(line, nullptr, false);
    if (record.is_object() && keep(record)) records.push_back(std::move(record));
  }
  if (limit >= 0 && records.size() > static_cast<size_t>(limit)) {
    records.erase(records.begin(), records.end() - limit);
  }
  return records;
}

// A deployment as apply recorded it, with its endpoint's live status.
struct DeploymentView {
  std::string name;
  std::string endpoint;
  json outputs = json::object();
  json status = json::object();  // the host's entry for it
  std::string url;
  bool host_running = false;
};

DeploymentView ViewOf(Workspace& workspace, const ResourceRecord& record) {
  DeploymentView view;
  view.name = record.name;
  view.outputs = json::parse(record.outputs_json, nullptr, false);
  if (!view.outputs.is_object()) view.outputs = json::object();
  view.endpoint = view.outputs.value("endpoint", "");
  std::string dir = EndpointDir(workspace, view.endpoint);
  view.host_running = !view.endpoint.empty() && EndpointHostRunning(dir);
  json status = ReadHostStatus(dir);
  if (status.contains("deployments") && status["deployments"].contains(view.name)) {
    view.status = status["deployments"][view.name];
  }
  view.url = "http://" + status.value("host", std::string("127.0.0.1")) + ":" + std::to_string(status.value("port", 0));
  return view;
}

json ViewJson(const DeploymentView& view) {
  json replicas = view.status.value("replicas", json::array());
  int ready = static_cast<int>(std::count_if(replicas.begin(), replicas.end(),
                                             [](const json& r) { return r.value("ready", false); }));
  return {{"name", view.name},
          {"endpoint", view.endpoint},
          {"image", view.outputs.value("image", "")},
          {"state", view.host_running ? view.status.value("state", std::string("Unknown")) : std::string("Stopped")},
          {"message", view.status.value("message", "")},
          {"revision", view.status.value("revision", "")},  // KEY@GENERATION: each rollout has its own
          {"replicas", replicas},
          {"ready_replicas", ready},
          {"desired_replicas", view.status.value("desired_replicas", 0)},
          {"scoring_uri", view.url + "/score"}};
}

}  // namespace

std::string DisplayTime(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  return FormatUtcTime(unix_ms, "%Y-%m-%d %H:%M:%S");
}

std::string RunDuration(const RunRecord& run) {
  if (run.started_at == 0) return "-";
  int64_t end = run.ended_at ? run.ended_at : NowMillis();
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", (end - run.started_at) / 1000.0);
  return text;
}

json RunJson(Workspace& workspace, const RunRecord& run) {
  json metrics = json::object();
  if (auto latest = workspace.state().LatestMetrics(run.id); latest.ok()) {
    for (const auto& point : latest.value()) {
      metrics[point.name] = point.text.empty() ? json(point.value) : json(point.text);
    }
  }
  json recorded = json::parse(run.params_json, nullptr, false);
  return {{"id", run.id},           {"experiment", run.experiment},
          {"job", run.job_id},      {"status", RunStatusName(run.status)},
          {"run_key", run.run_key}, {"parent", run.parent_run_id},
          {"compute", run.compute}, {"work_dir", run.work_dir}, {"command", run.command},
          {"snapshot", run.snapshot_digest},
          {"created_at", DisplayTime(run.created_at)}, {"started_at", DisplayTime(run.started_at)},
          {"ended_at", DisplayTime(run.ended_at)},     {"duration", RunDuration(run)},
          {"exit_code", run.exit_code},         {"error", run.error},
          {"spec_commit", run.spec_commit},
          {"inputs", Member(recorded, "inputs", json::object())},
          {"key_parts", Member(recorded, "key_parts", json::object())},
          {"search_space", Member(recorded, "search_space", json::object())},
          {"params", PairsJson(workspace.state().RunParams(run.id))},
          {"tags", PairsJson(workspace.state().RunTags(run.id))},
          {"outputs", json::parse(run.outputs_json, nullptr, false)},
          {"metrics", metrics}};
}

json RunWithChildrenJson(Workspace& workspace, const RunRecord& run) {
  json out = RunJson(workspace, run);
  RunQuery children;
  children.parent_run_id = run.id;
  json child_ids = json::array();
  if (auto found = workspace.state().ListRuns(children); found.ok()) {
    for (const RunRecord& child : found.value()) child_ids.push_back(child.id);
  }
  out["children"] = child_ids;
  return out;
}

std::string ActivityTook(const ActivityRecord& a) {
  if (!a.ended_at) return "-";
  char took[32];
  std::snprintf(took, sizeof took, "%.1fs", (a.ended_at - a.started_at) / 1000.0);
  return took;
}

json ActivityJson(const ActivityRecord& a) {
  return {{"id", a.id},         {"kind", a.kind},         {"resource", a.resource_id},
          {"run", a.run_id},    {"status", a.status},     {"progress", a.progress},
          {"message", a.message}, {"started_at", DisplayTime(a.started_at)}, {"ended_at", DisplayTime(a.ended_at)},
          {"took", ActivityTook(a)}};
}

json ModelJson(const ModelVersionRecord& m) {
  return {{"name", m.name},
          {"version", m.version},
          {"type", m.type},
          {"framework", m.framework},
          {"description", m.description},
          {"stage", m.stage},
          {"tags", m.tags},
          {"properties", m.properties},
          {"content_digest", m.content_digest},
          {"path", m.path_name},
          {"single_file", m.single_file},
          {"size_bytes", m.size_bytes},
          {"lineage",
           {{"run", m.run_id}, {"job", m.job_id}, {"experiment", m.experiment}, {"spec_commit", m.spec_commit}}},
          {"resource", m.resource_id},
          {"created_at", DisplayTime(m.created_at)}};
}

json ImageJson(const ImageRecord& image) {
  json models = json::array();
  for (const auto& [name, version] : image.models) models.push_back(name + ":" + std::to_string(version));
  std::string ref = ImageRefName(image.name, image.version);
  return {{"name", image.name},
          {"version", image.version},
          {"kind", image.kind},
          {"digest", image.digest},
          {"layout", image.layout},
          {"ref_name", ref},
          {"oci_reference", "oci:" + image.layout + ":" + ref},
          {"models", models},
          {"environment", image.environment},
          {"base_image", image.base_image},
          {"tags", image.tags},
          {"size_bytes", image.size_bytes},
          {"pushed", json::parse(image.pushed_json, nullptr, false)},
          {"resource", image.resource_id},
          {"created_at", DisplayTime(image.created_at)}};
}

json SyncJson(const SyncRecord& sync, bool whole) {
  json out = {{"id", sync.id},           {"trigger", sync.trigger}, {"commit", sync.commit},
              {"author", sync.author},   {"message", sync.message}, {"result", sync.result},
              {"summary", sync.summary}, {"started_at", sync.started_at},
              {"ended_at", sync.ended_at},
              {"duration_ms", sync.ended_at ? sync.ended_at - sync.started_at : 0}};
  if (!sync.diagnostics.empty() || whole) out["diagnostics"] = sync.diagnostics;
  if (whole) {
    auto parsed = [](const std::string& text) {
      json value = json::parse(text, nullptr, false);
      return value.is_discarded() ? json() : value;
    };
    out["plan"] = parsed(sync.plan_json);
    out["apply_log"] = sync.apply_log;
    out["resources"] = parsed(sync.resources_json);
  }
  return out;
}

namespace {

// A JSON string or number as nlohmann writes it (invalid UTF-8 replaced).
std::string JsonScalar(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// Shortest text that reads back as the same double; null for NaN and
// infinities, which JSON cannot write (nlohmann writes null too).
void AppendNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
  out.append(buffer, end);
}

}  // namespace

// Written as text point by point, not as a json array: a run may have
// millions of points, and a DOM of one std::map per point took most of the
// 0.8 s the 100,000-point answer needed (bench/README.md).
StatusOr<std::string> MetricPointsJson(StateStore& store, const std::string& run_id, const std::string& name) {
  auto points = store.Metrics(run_id, name);
  if (!points.ok()) return points.status();
  std::string out = "[";
  std::string last_name, quoted_name;  // points come grouped by name: quote each once
  for (const auto& p : points.value()) {
    if (p.name != last_name || quoted_name.empty()) {
      last_name = p.name;
      quoted_name = JsonScalar(p.name);
    }
    if (out.size() > 1) out += ",";
    out += "\n{\"name\":" + quoted_name + ",\"step\":" + std::to_string(p.step) + ",\"value\":";
    if (p.text.empty()) {
      AppendNumber(out, p.value);
    } else {
      out += JsonScalar(p.text);
    }
    out += ",\"timestamp\":" + std::to_string(p.timestamp) + "}";
  }
  out += out.size() > 1 ? "\n]" : "]";
  return out;
}

namespace {

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The shortest text that reads back as the same double (0.28802605849240936);
// nan, inf and -inf as such, which JSON cannot carry.
std::string FullPrecision(double value) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof text, value);
  return error == std::errc() ? std::string(text, end) : std::to_string(value);
}

}  // namespace

// The CSV `metrics --csv` prints, made here so the server's
// ?format=csv answer is the same bytes, exact values and milliseconds.
StatusOr<std::string> MetricPointsCsv(StateStore& store, const std::string& run_id, const std::string& name) {
  auto points = store.Metrics(run_id, name);
  if (!points.ok()) return points.status();
  std::string out = "name,step,value,timestamp\n";
  for (const auto& p : points.value()) {
    out += CsvField(p.name) + "," + std::to_string(p.step) + "," +
           (p.text.empty() ? FullPrecision(p.value) : CsvField(p.text)) + "," + std::to_string(p.timestamp) + "\n";
  }
  return out;
}

json SecretJson(const SecretInfo& secret) {
  return {{"name", secret.name}, {"updated_at", DisplayTime(secret.updated_at)}, {"updated_by", secret.updated_by}};
}

json UserJson(const UserRecord& user) {
  return {{"name", user.name}, {"role", user.role}, {"created_at", DisplayTime(user.created_at)}};
}

json TokenJson(const TokenRecord& token, int64_t now_ms) {
  std::string state = token.revoked_at != 0                                    ? "revoked"
                      : token.expires_at != 0 && token.expires_at <= now_ms ? "expired"
                                                                              : "active";
  return {{"id", token.id},
          {"user", token.user},
          {"name", token.label},
          {"prefix", token.prefix},
          {"state", state},
          {"created_at", DisplayTime(token.created_at)},
          {"expires_at", token.expires_at ? DisplayTime(token.expires_at) : "never"},
          {"revoked_at", DisplayTime(token.revoked_at)},
          {"last_used_at", DisplayTime(token.last_used_at)}};
}

json AuditJson(const AuditRecord& entry) {
  return {{"id", entry.id},         {"time", DisplayTime(entry.at)}, {"at_ms", entry.at},
          {"user", entry.user},     {"method", entry.method},        {"route", entry.route},
          {"target", entry.target}, {"status", entry.status},        {"client", entry.client}};
}

std::vector<json> DeploymentsJson(Workspace& workspace) {
  std::vector<json> views;
  auto records = workspace.state().ListResources();
  if (!records.ok()) return views;
  for (const ResourceRecord& record : records.value()) {
    if (record.kind == "deployment") views.push_back(ViewJson(ViewOf(workspace, record)));
  }
  return views;
}

std::optional<json> DeploymentJson(Workspace& workspace, const std::string& name, int event_limit) {
  auto records = workspace.state().ListResources();
  if (!records.ok()) return std::nullopt;
  for (const ResourceRecord& record : records.value()) {
    if (record.kind != "deployment" || record.name != name) continue;
    DeploymentView view = ViewOf(workspace, record);
    json out = ViewJson(view);
    out["events"] = LastObjects(EndpointDir(workspace, view.endpoint) + "/events.jsonl", event_limit,
                                [&](const json& event) { return event.value("deployment", "") == view.name; });
    return out;
  }
  return std::nullopt;
}

std::vector<json> TelemetryJson(Workspace& workspace, const std::string& endpoint, const std::string& deployment,
                                int limit) {
  return LastObjects(EndpointDir(workspace, endpoint) + "/telemetry/" + deployment + ".jsonl", limit,
                     [](const json&) { return true; });
}

StatusOr<json> EndpointsJson(Workspace& workspace) {
  auto resources = workspace.state().ListResources();
  if (!resources.ok()) return resources.status();
  std::vector<json> deployments = DeploymentsJson(workspace);
  json out = json::array();
  for (const ResourceRecord& record : *resources) {
    if (record.kind != "endpoint") continue;
    json spec = json::parse(record.spec_json, nullptr, false);
    json outputs = json::parse(record.outputs_json, nullptr, false);
    json members = json::array();
    for (const json& deployment : deployments) {
      if (deployment.value("endpoint", "") == record.name) members.push_back(deployment);
    }
    out.push_back({{"name", record.name},
                   {"traffic", spec.is_object() ? spec.value("traffic", json::object()) : json::object()},
                   {"outputs", outputs.is_discarded() ? json::object() : outputs},
                   {"deployments", members}});
  }
  return out;
}

StatusOr<json> ExperimentsJson(StateStore& store) {
  auto names = store.ListExperiments();
  if (!names.ok()) return names.status();
  json out = json::array();
  for (const std::string& name : *names) out.push_back({{"name", name}});
  return out;
}

}  // namespace amlc::runtime
