// Sweep jobs: the trials of a hyperparameter search, each a child run of the
// sweep's own run. Grid sampling walks the product of the choice values;
// random sampling draws from each distribution with a fixed seed (the spec's,
// or 0), so the same spec gives the same trials. The best trial by the
// objective is recorded on the parent: a tag, its metric, and its outputs.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "runtime/engine/applier.h"

namespace amlc::runtime {

using compiler::ir::Resource;
using compiler::ir::Value;

namespace {

// Settings objects are optional in a sweep spec.
int64_t IntAt(const Value* map, std::string_view key, int64_t fallback) {
  return map ? map->IntAt(key, fallback) : fallback;
}

// One draw from a distribution of the search space.
Value Draw(const Value& distribution, std::mt19937_64& random) {
  std::string type = distribution.StringAt("type");
  if (type == "choice") {
    const Value* values = distribution.Find("values");
    if (!values || values->items().empty()) return {};
    return values->items()[random() % values->items().size()];
  }
  if (type == "randint") {
    return Value::Int(static_cast<int64_t>(random() % std::max<int64_t>(1, distribution.NumberAt("upper", 1))));
  }
  double lo = distribution.NumberAt("min_value", 0), hi = distribution.NumberAt("max_value", 1);
  double mu = distribution.NumberAt("mu", 0), sigma = distribution.NumberAt("sigma", 1);
  double value = 0;
  if (type == "uniform" || type == "quniform") value = std::uniform_real_distribution<double>(lo, hi)(random);
  if (type == "loguniform" || type == "qloguniform") {
    value = std::exp(std::uniform_real_distribution<double>(lo, hi)(random));
  }
  if (type == "normal" || type == "qnormal") value = std::normal_distribution<double>(mu, sigma)(random);
  if (type == "lognormal" || type == "qlognormal") value = std::exp(std::normal_distribution<double>(mu, sigma)(random));
  if (type[0] == 'q') {
    double q = distribution.NumberAt("q", 1);
    value = std::round(value / q) * q;
  }
  return Value::Double(value);
}

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

std::string EarlyTerminationVerdict(const Value& policy, bool maximize, const std::vector<double>& trial,
                                    const std::vector<std::vector<double>>& others) {
  std::string type = policy.StringAt("type");
  int64_t interval = std::max<int64_t>(1, IntAt(&policy, "evaluation_interval", 1));
  int64_t delay = IntAt(&policy, "delay_evaluation", 0);
  size_t n = trial.size();
  if (n == 0 || static_cast<int64_t>(n) <= delay || (static_cast<int64_t>(n) - delay) % interval != 0) return "";
  // Compare like with like: every trial at its first n reports.
  auto best_of = [&](const std::vector<double>& values, size_t count) {
    double best = values[0];
    for (size_t i = 1; i < count; ++i) best = maximize ? std::max(best, values[i]) : std::min(best, values[i]);
    return best;
  };
  auto average_of = [](const std::vector<double>& values, size_t count) {
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += values[i];
    return sum / count;
  };
  std::vector<double> peers, peer_averages;
  for (const auto& other : others) {
    if (other.size() < n) continue;
    peers.push_back(best_of(other, n));
    peer_averages.push_back(average_of(other, n));
  }
  if (peers.empty()) return "";
  double mine = best_of(trial, n);
  auto worse = [&](double a, double b) { return maximize ? a < b : a > b; };
  if (type == "bandit") {
    double best = peers[0];
    for (double p : peers) best = maximize ? std::max(best, p) : std::min(best, p);
    double factor = policy.NumberAt("slack_factor", 0), amount = policy.NumberAt("slack_amount", 0);
    double allowed = factor > 0 ? (maximize ? best / (1 + factor) : best * (1 + factor))
                                : (maximize ? best - amount : best + amount);
    if (worse(mine, allowed)) return "stopped early by the bandit policy: " + std::to_string(mine) +
                                     " is outside the slack of the best trial's " + std::to_string(best);
  } else if (type == "median_stopping") {
    std::sort(peer_averages.begin(), peer_averages.end());
    double median = peer_averages[peer_averages.size() / 2];
    if (worse(average_of(trial, n), median)) {
      return "stopped early by the median stopping policy: its running average is worse than the median " +
             std::to_string(median);
    }
  } else if (type == "truncation_selection") {
    double percent = policy.NumberAt("truncation_percentage", 10);
    size_t beaten = 0;
    for (double p : peers) beaten += worse(mine, p);
    if (100.0 * beaten / (peers.size() + 1) >= 100.0 - percent) {
      return "stopped early by the truncation selection policy: it is in the worst " +
             std::to_string(static_cast<int>(percent)) + "%";
    }
  }
  return "";
}

std::vector<std::map<std::string, Value>> SweepTrials(const Value& spec) {
  const Value* space = spec.Find("search_space");
  const Value* limits = spec.Find("limits");
  int64_t max_trials = IntAt(limits, "max_total_trials", 1);
  std::vector<std::map<std::string, Value>> trials;
  if (!space || !space->is_map()) return trials;
  std::string sampling = spec.StringAt("sampling_algorithm");
  const Value* sampling_object = spec.Find("sampling_algorithm");
  if (sampling_object && sampling_object->is_map()) sampling = sampling_object->StringAt("type");
  if (sampling == "grid") {
    trials.push_back({});
    for (const auto& [name, distribution] : space->entries()) {
      const Value* values = distribution.Find("values");
      std::vector<std::map<std::string, Value>> grown;
      for (const auto& trial : trials) {
        for (const Value& value : values ? values->items() : std::vector<Value>{}) {
          auto next = trial;
          next[name] = value;
          grown.push_back(std::move(next));
        }
      }
      trials = std::move(grown);
    }
    if (static_cast<int64_t>(trials.size()) > max_trials) trials.resize(max_trials);
    return trials;
  }
  std::mt19937_64 random(static_cast<uint64_t>(IntAt(sampling_object, "seed", 0)));
  for (int64_t i = 0; i < max_trials; ++i) {
    std::map<std::string, Value> trial;
    for (const auto& [name, distribution] : space->entries()) trial[name] = Draw(distribution, random);
    trials.push_back(std::move(trial));
  }
  return trials;
}

Value Applier::TrialSpec(const Resource& sweep) {
  Value trial = Value::EmptyMap();
  if (const Value* inline_trial = sweep.spec.Find("trial"); inline_trial && inline_trial->is_map()) {
    trial = *inline_trial;
  } else if (inline_trial && inline_trial->is_ref()) {
    if (auto component = graph_.Find(inline_trial->as_ref().target)) trial = graph_.resource(*component).spec;
  }
  // The sweep's inputs (with ${{search_space.X}}) feed the trial's command.
  Value inputs = trial.Find("inputs") ? *trial.Find("inputs") : Value::EmptyMap();
  if (const Value* sweep_inputs = sweep.spec.Find("inputs"); sweep_inputs && sweep_inputs->is_map()) {
    for (const auto& [name, input] : sweep_inputs->entries()) inputs.Set(name, input);
  }
  trial.Set("inputs", inputs);
  for (const char* field : {"compute", "experiment_name", "limits"}) {
    if (!trial.Find(field) && sweep.spec.Find(field) && std::string(field) != "limits") {
      trial.Set(field, *sweep.spec.Find(field));
    }
  }
  return trial;
}

void Applier::RunSweep(RunRecord& parent, const Resource& sweep,
                       const std::function<void(const std::string&)>& progress) {
  parent.status = RunStatus::kRunning;
  parent.started_at = NowMillis();
  workspace_.state().UpdateRun(parent);
  const Value trial_spec = TrialSpec(sweep);
  std::vector<std::map<std::string, Value>> trials = SweepTrials(sweep.spec);
  const Value* objective = sweep.spec.Find("objective");
  std::string metric = objective ? objective->StringAt("primary_metric") : "";
  bool maximize = objective && objective->StringAt("goal") == "maximize";
  int64_t concurrent = IntAt(sweep.spec.Find("limits"), "max_concurrent_trials", static_cast<int64_t>(trials.size()));

  std::vector<RunRecord> runs(trials.size());
  const Value* policy = sweep.spec.Find("early_termination");
  std::vector<std::string> runs_started(trials.size());  // ids, readable by other trials' checks
  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  auto worker = [&] {
    for (size_t i; (i = next++) < trials.size();) {
      Resource trial_job = sweep;
      trial_job.spec = trial_spec;
      Value inputs = *trial_job.spec.Find("inputs");
      Value resolved = Value::EmptyMap();
      for (const auto& [name, input] : inputs.entries()) {
        std::string text = input.is_string() ? input.as_string() : "";
        size_t open = text.find("${{search_space.");
        if (open == 0) {
          std::string key = text.substr(16, text.find("}}") - 16);
          resolved.Set(name, trials[i].count(key) ? trials[i][key] : Value());
        } else {
          resolved.Set(name, input);
        }
      }
      trial_job.spec.Set("inputs", resolved);
      RunRecord& run = runs[i];
      run.id = parent.id + ".trial-" + std::to_string(i);
      run.parent_run_id = parent.id;
      run.experiment = parent.experiment;
      run.job_id = parent.job_id;
      run.compute = parent.compute;
      run.snapshot_digest = parent.snapshot_digest;
      run.spec_commit = parent.spec_commit;
      run.created_at = NowMillis();
      nlohmann::json params;
      for (const auto& [name, value] : trials[i]) params["search_space"][name] = nlohmann::json::parse(value.ToJson());
      run.params_json = params.dump();
      RunRequest request;
      request.command = ExpandCommand(trial_job, trial_job.spec, runner_.work_dir(run.id));
      auto python = PythonOf(trial_job.spec);
      request.python = python.ok() ? python.value() : "";
      if (const Value* outputs = trial_job.spec.Find("outputs"); outputs && outputs->is_map()) {
        for (const auto& [name, output] : outputs->entries()) request.output_names.push_back(name);
      }
      run.command = request.command;
      workspace_.state().InsertRun(run);
      {
        std::lock_guard<std::mutex> lock(progress_mutex);
        runs_started[i] = run.id;
      }
      auto slot = AcquireSlot(ComputeOf(trial_job.spec));
      auto last_check = std::chrono::steady_clock::now();
      runner_.Execute(run, request, [&, i](const std::string& status) {
        {
          std::lock_guard<std::mutex> lock(progress_mutex);
          progress("trial " + std::to_string(i) + ": " + status);
        }
        // The early-termination policy looks at the trial every half second.
        if (!policy || metric.empty() || std::chrono::steady_clock::now() - last_check < std::chrono::milliseconds(500)) {
          return;
        }
        last_check = std::chrono::steady_clock::now();
        std::vector<std::string> peers;
        {
          std::lock_guard<std::mutex> lock(progress_mutex);
          for (size_t j = 0; j < trials.size(); ++j) {
            if (j != i && !runs_started[j].empty()) peers.push_back(runs_started[j]);
          }
        }
        std::vector<std::vector<double>> others;
        for (const std::string& peer : peers) others.push_back(Series(workspace_.state(), peer, metric));
        std::string verdict = EarlyTerminationVerdict(*policy, maximize, Series(workspace_.state(), run.id, metric), others);
        if (!verdict.empty()) CancelRun(workspace_, run.id, verdict);
      });
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < std::max<int64_t>(1, concurrent); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();

  // The best trial by the objective's metric (its last logged value).
  std::string best;
  double best_value = 0;
  int completed = 0;
  for (const RunRecord& run : runs) {
    if (run.status != RunStatus::kCompleted) continue;
    ++completed;
    auto latest = workspace_.state().LatestMetrics(run.id);
    if (!latest.ok()) continue;
    for (const MetricPoint& point : latest.value()) {
      if (point.name != metric || !point.text.empty() || std::isnan(point.value)) continue;
      if (best.empty() || (maximize ? point.value > best_value : point.value < best_value)) {
        best = run.id;
        best_value = point.value;
      }
    }
  }
  parent.ended_at = NowMillis();
  parent.status = completed > 0 ? RunStatus::kCompleted : RunStatus::kFailed;
  if (completed == 0) parent.error = "no trial completed";
  nlohmann::json outputs = nlohmann::json::object();
  if (!best.empty()) {
    workspace_.state().SetRunTag(parent.id, "best_child_run_id", best);
    MetricPoint point;
    point.run_id = parent.id;
    point.name = metric;
    point.value = best_value;
    point.timestamp = parent.ended_at;
    workspace_.state().AppendMetrics({point});
    outputs["best_trial"] = best;
    for (const RunRecord& run : runs) {
      if (run.id == best) outputs["best_trial_outputs"] = nlohmann::json::parse(run.outputs_json, nullptr, false);
    }
  }
  parent.outputs_json = outputs.dump();
  workspace_.state().UpdateRun(parent);
}

}  // namespace amlc::runtime
