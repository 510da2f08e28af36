#include "runtime/compute/tracking_reader.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "base/clock.h"

namespace amlc::runtime {

namespace {

double NumberOf(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {  // NaN and infinities travel as strings
    const std::string& text = value.get_ref<const std::string&>();
    if (text == "NaN") return std::nan("");
    if (text == "Infinity") return INFINITY;
    if (text == "-Infinity") return -INFINITY;
  }
  return 0;
}

}  // namespace

MetricPoint MetricPointOf(const nlohmann::json& record, const std::string& run_id) {
  MetricPoint point;
  point.run_id = run_id;
  point.name = record.value("name", "");
  point.step = record.value("step", int64_t{0});
  point.timestamp = record.value("ts", int64_t{0});
  if (record.contains("text")) {
    point.text = record["text"].is_string() ? record["text"].get<std::string>() : record["text"].dump();
  } else if (record.contains("value")) {
    point.value = NumberOf(record["value"]);
  }
  return point;
}

RunRecord ChildRunOf(const RunRecord& parent, const std::string& id, const std::string& name, int64_t now_ms) {
  RunRecord child;
  child.id = id;
  child.parent_run_id = parent.id;
  child.experiment = parent.experiment;
  child.job_id = parent.job_id;
  child.compute = parent.compute;
  child.command = name;
  child.status = RunStatus::kRunning;
  child.created_at = child.started_at = now_ms;
  return child;
}

void TrackingReader::StartChild(const std::string& id, const std::string& name) {
  if (children_.count(id)) return;
  if (state_.InsertRun(ChildRunOf(run_, id, name, NowMillis())).ok()) children_[id] = false;
}

void TrackingReader::EndChild(const std::string& id, RunStatus status, const std::string& message) {
  auto found = state_.GetRun(id);
  if (!found.ok() || !found.value()) return;
  RunRecord child = *found.value();
  child.status = status;
  child.error = message;
  child.ended_at = NowMillis();
  state_.UpdateRun(child);
  children_[id] = true;
}

void TrackingReader::FinishChildren(RunStatus parent_status) {
  for (const auto& [id, ended] : children_) {
    if (!ended) EndChild(id, parent_status, "");
  }
}

void TrackingReader::Parse(std::string_view line, std::vector<MetricPoint>& points) {
  nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
  if (record.is_discarded() || !record.is_object()) return;  // a script printed junk: ignore it
  std::string type = record.value("t", "");
  std::string run = record.value("run", "");
  if (type == "child") {
    StartChild(run, record.value("name", ""));
    return;
  }
  // Records of a run this file has not announced cannot be stored (and
  // would fail the whole batch); a well-behaved script never writes them.
  if (run != run_.id && !children_.count(run)) return;
  if (type == "status" && run != run_.id) {
    std::optional<RunStatus> status = ParseRunStatus(record.value("status", ""));
    if (status) EndChild(run, *status, record.value("message", ""));
    return;
  }
  if (type == "metric") {
    MetricPoint point = MetricPointOf(record, run);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.4g", point.value);
    latest_ = point.name + "=" + (point.text.empty() ? buffer : point.text);
    points.push_back(std::move(point));
  } else if (type == "tag") {
    state_.SetRunTag(run, record.value("key", ""), record.value("value", ""));
  } else if (type == "param") {
    pending_params_[run].emplace_back(record.value("key", ""), record.value("value", ""));
  }
}

StatusOr<int> TrackingReader::Poll() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return 0;  // nothing logged yet
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t complete = chunk.rfind('\n');
  if (complete == std::string::npos) return 0;
  std::vector<MetricPoint> points;
  size_t start = 0;
  for (size_t end; (end = chunk.find('\n', start)) <= complete; start = end + 1) {
    if (end > start) Parse(std::string_view(chunk).substr(start, end - start), points);
    if (end == complete) break;
  }
  offset_ += complete + 1;
  for (auto& [run, params] : pending_params_) {
    if (Status status = state_.SetRunParams(run, params); !status.ok()) return status;
  }
  pending_params_.clear();
  if (points.empty()) return 0;
  if (Status status = state_.AppendMetrics(points); !status.ok()) return status;
  return static_cast<int>(points.size());
}

}  // namespace amlc::runtime
