// Sweep jobs: the trials of a hyperparameter search, each a child run of the
// sweep's own run, up to max_concurrent_trials at once, each taking a slot
// of its compute target's pool. An early-termination policy looks at every
// trial's primary metric twice a second and cancels the ones it stops. The
// best trial by the objective is recorded on the parent: a tag, its metric,
// and its outputs.
#include "runtime/engine/drivers/sweep_driver.h"
#include "runtime/engine/drivers/run_params.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "runtime/engine/drivers/sweep_trials.h"

namespace amlc::runtime {

using compiler::ir::Resource;
using compiler::ir::Value;

namespace {

// The values a run has logged for a metric, in step order.
std::vector<double> Series(StateStore& state, const std::string& run_id, const std::string& metric) {
  std::vector<double> values;
  auto points = state.Metrics(run_id, metric);
  if (!points.ok()) return values;
  for (const MetricPoint& point : points.value()) {
    if (point.text.empty() && !std::isnan(point.value)) values.push_back(point.value);
  }
  return values;
}

}  // namespace

// What the trials of one sweep run share while they run.
struct SweepDriver::Sweep {
  const Resource& job;
  RunRecord& parent;
  const compiler::ir::JobSpec& trial;  // from the lowering; each trial binds its search-space values
  std::vector<std::map<std::string, Value>> trials;
  std::string metric;
  bool maximize = false;
  const Value* policy = nullptr;
  std::vector<RunRecord> runs;
  std::vector<std::string> started;  // trial run ids, read by the other trials' policy checks
  std::mutex mutex;                  // guards `started` and progress
  const Progress& progress;
};

std::optional<std::string> SweepDriver::Unsupported(const Resource& job) {
  if (!job.parent.empty()) return "no driver for sweep steps yet";
  return std::nullopt;
}

void SweepDriver::Carry(RunRecord& parent, const Resource& job, const compiler::planner::Observation& seen,
                        const RunRequest& request, const Progress& progress) {
  parent.status = RunStatus::kRunning;
  parent.started_at = NowMillis();
  context_.state().UpdateRun(parent);
  if (!job.trial) {  // a compilation with errors is never applied, so this is a bug
    parent.status = RunStatus::kFailed;
    parent.error = job.id() + " has no trial from the compiler";
    parent.ended_at = NowMillis();
    context_.state().UpdateRun(parent);
    return;
  }
  const Value* objective = job.spec.Find("objective");
  Sweep sweep{job, parent, *job.trial, SweepTrials(job.spec),
              objective ? objective->StringAt("primary_metric") : "",
              objective && objective->StringAt("goal") == "maximize", job.spec.Find("early_termination"),
              {}, {}, {}, progress};
  sweep.runs.resize(sweep.trials.size());
  sweep.started.resize(sweep.trials.size());
  const Value* limits = job.spec.Find("limits");
  int64_t concurrent = limits ? limits->IntAt("max_concurrent_trials", static_cast<int64_t>(sweep.trials.size()))
                              : static_cast<int64_t>(sweep.trials.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < sweep.trials.size();) RunTrial(sweep, i);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < std::max<int64_t>(1, concurrent); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  FinishParent(sweep);
}

void SweepDriver::RunTrial(Sweep& sweep, size_t i) {
  RunRecord& parent = sweep.parent;
  RunRecord& run = sweep.runs[i];
  run.id = parent.id + ".trial-" + std::to_string(i);
  run.parent_run_id = parent.id;
  run.experiment = parent.experiment;
  run.job_id = parent.job_id;
  run.compute = parent.compute;
  run.snapshot_digest = parent.snapshot_digest;
  run.spec_commit = parent.spec_commit;
  run.created_at = NowMillis();
  nlohmann::json params;
  for (const auto& [name, value] : sweep.trials[i]) params["search_space"][name] = nlohmann::json::parse(value.ToJson());
  run.params_json = params.dump();
  RunRequest request = MakeRequest(sweep.job, sweep.trial, run.id, &sweep.trials[i]);
  // Outputs Azure ML declares on the sweep are written by its trials.
  if (const Value* outputs = sweep.job.spec.Find("outputs"); outputs && outputs->is_map()) {
    for (const auto& [name, output] : outputs->entries()) {
      auto& names = request.output_names;
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  run.command = request.command;
  context_.state().InsertRun(run);
  RunParamList trial_params = ParamsOfInputs(sweep.trial.inputs);
  for (auto& param : ParamsOfTrial(sweep.trials[i])) trial_params.push_back(std::move(param));
  context_.state().SetRunParams(run.id, trial_params);
  {
    std::lock_guard<std::mutex> lock(sweep.mutex);
    sweep.started[i] = run.id;
  }
  ComputeTarget* target = TargetOf(run.compute);
  if (!target) {
    run.status = RunStatus::kFailed;
    run.error = "no driver for " + run.compute + " compute targets";
    context_.state().UpdateRun(run);
    return;
  }
  Pools::Slot slot(context_.pools(), PoolOf(sweep.trial.fields));
  auto last_check = std::chrono::steady_clock::now();
  RunProgress trial_progress([&, i](const std::string& status) {
    {
      std::lock_guard<std::mutex> lock(sweep.mutex);
      sweep.progress("trial " + std::to_string(i) + ": " + status);
    }
    // The early-termination policy looks at the trial every half second.
    if (!sweep.policy || sweep.metric.empty() ||
        std::chrono::steady_clock::now() - last_check < std::chrono::milliseconds(500)) {
      return;
    }
    last_check = std::chrono::steady_clock::now();
    if (std::string verdict = PolicyVerdict(sweep, i); !verdict.empty()) target->Cancel(run.id, verdict);
  }, sweep.progress.bytes());
  target->Run(run, request, trial_progress);
}

std::string SweepDriver::PolicyVerdict(Sweep& sweep, size_t i) {
  std::vector<std::string> peers;
  {
    std::lock_guard<std::mutex> lock(sweep.mutex);
    for (size_t j = 0; j < sweep.started.size(); ++j) {
      if (j != i && !sweep.started[j].empty()) peers.push_back(sweep.started[j]);
    }
  }
  std::vector<std::vector<double>> others;
  for (const std::string& peer : peers) others.push_back(Series(context_.state(), peer, sweep.metric));
  return EarlyTerminationVerdict(*sweep.policy, sweep.maximize,
                                 Series(context_.state(), sweep.runs[i].id, sweep.metric), others);
}

// The best trial by the objective's metric (its last logged value) goes on
// the parent; the parent completes when any trial did.
void SweepDriver::FinishParent(Sweep& sweep) {
  std::string best;
  double best_value = 0;
  int completed = 0;
  for (const RunRecord& run : sweep.runs) {
    if (run.status != RunStatus::kCompleted) continue;
    ++completed;
    auto latest = context_.state().LatestMetrics(run.id);
    if (!latest.ok()) continue;
    for (const MetricPoint& point : latest.value()) {
      if (point.name != sweep.metric || !point.text.empty() || std::isnan(point.value)) continue;
      if (best.empty() || (sweep.maximize ? point.value > best_value : point.value < best_value)) {
        best = run.id;
        best_value = point.value;
      }
    }
  }
  RunRecord& parent = sweep.parent;
  parent.ended_at = NowMillis();
  parent.status = completed > 0 ? RunStatus::kCompleted : RunStatus::kFailed;
  if (completed == 0) parent.error = "no trial completed";
  nlohmann::json outputs = nlohmann::json::object();
  if (!best.empty()) {
    context_.state().SetRunTag(parent.id, "best_child_run_id", best);
    MetricPoint point;
    point.run_id = parent.id;
    point.name = sweep.metric;
    point.value = best_value;
    point.timestamp = parent.ended_at;
    context_.state().AppendMetrics({point});
    outputs["best_trial"] = best;
    for (const RunRecord& run : sweep.runs) {
      if (run.id != best) continue;
      nlohmann::json trial_outputs = nlohmann::json::parse(run.outputs_json, nullptr, false);
      outputs["best_trial_outputs"] = trial_outputs;
      // The sweep's outputs are its best trial's: a model registered from
      // azureml://jobs/SWEEP/outputs/X, and a step reading them, find them here.
      if (!trial_outputs.is_object()) continue;
      for (auto& [name, output] : trial_outputs.items()) {
        if (!outputs.contains(name)) outputs[name] = output;
      }
    }
  }
  parent.outputs_json = outputs.dump();
  context_.state().UpdateRun(parent);
}

}  // namespace amlc::runtime
