// Implementation notes: a job's run key is the SHA-256 of its key parts:
// the code snapshot's tree digest, the command, the environment's digest,
// the compute target's type and one part per input (a literal's JSON, a local
// file's or folder's digest, or the digest of the upstream run's output). The
// parts are kept in the run record so the next plan can say which changed.
#include "runtime/engine/applier.h"

#include <signal.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "base/digest.h"
#include "runtime/compute/environments.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using compiler::ir::Ref;
using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::JobObservation;
using compiler::planner::RecordedResource;

namespace {

std::string NewRunId(const std::string& job_name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
  static std::mt19937 random{std::random_device{}()};
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(random() & 0xFFFF));
  std::string name = job_name;
  for (char& c : name) c = c == '/' ? '.' : c;
  return name + "-" + stamp + "-" + suffix;
}

std::string Join(const std::map<std::string, std::string>& parts) {
  std::string text;
  for (const auto& [key, value] : parts) text += key + "=" + value + "\n";
  return text;
}

}  // namespace

std::string Applier::PathDigest(const std::string& path) {
  if (fs::is_directory(path)) {
    auto snapshot = workspace_.snapshots().Scan(path);
    return snapshot.ok() ? snapshot->tree_digest : "";
  }
  auto digest = DigestFile(path);
  return digest.ok() ? digest.value() : "";
}

std::vector<RecordedResource> Applier::Recorded() {
  std::vector<RecordedResource> out;
  auto records = workspace_.state().ListResources();
  if (!records.ok()) return out;
  for (const ResourceRecord& r : records.value()) out.push_back({r.id, r.kind, r.digest, r.spec_json});
  return out;
}

std::optional<std::string> Applier::Unsupported(const Resource& r) {
  if (r.kind == "job" && r.type == "sweep" && !r.parent.empty()) return "sweep steps are not carried out yet";
  if (r.kind == "job" && r.type != "command" && r.type != "pipeline" && r.type != "sweep") {
    return r.type + (r.parent.empty() ? " jobs" : " steps") + " are not carried out yet";
  }
  if (r.kind == "compute" && r.type != "local") return r.type + " compute targets are not carried out yet";
  if (r.kind == "datastore" && r.spec.StringAt("type") != "local") {
    return "only local-folder datastores are reachable from this machine";
  }
  if (r.kind == "image" && r.spec.StringAt("kind") == "fpga") {
    return "FPGA images are not supported by the available targets: amlc builds OCI images for CPU hosts, "
           "and no FPGA-enabled host is attached";
  }
  if (r.kind == "endpoint" && r.spec.Find("compute")) {
    return "endpoints on a Kubernetes compute target are rendered with `amlc render --target kubernetes`; "
           "no cluster is reachable from this machine";
  }
  if (r.kind == "deployment" && r.type == "iot_module") {
    return "IoT modules are rendered with `amlc render --target iot-edge` for the device to pull";
  }
  if (r.kind == "schedule") return "schedules start runs under `amlc reconcile`, not `amlc apply`";
  return std::nullopt;
}

std::string Applier::LocalPath(const std::string& relative) const {
  if (!relative.empty() && relative[0] == '/') return relative;
  return (fs::path(specs_root_) / relative).lexically_normal().string();
}

std::map<std::string, std::string> Applier::UpstreamRuns(size_t job) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, std::string> runs;
  for (const compiler::ir::Dependency& d : graph_.dependencies()) {
    if (d.from != job || graph_.resource(d.to).kind != "job") continue;
    auto it = run_of_.find(graph_.resource(d.to).id());
    if (it != run_of_.end()) runs[it->first] = it->second;
  }
  return runs;
}

JobObservation Applier::ObserveJob(const compiler::ir::Graph& graph, size_t job,
                                   const std::map<std::string, std::string>& upstream_runs) {
  JobObservation seen;
  const Resource& r = graph.resource(job);
  const Value spec = EffectiveSpec(r);
  std::string code = spec.StringAt("code");
  Snapshot code_snapshot;  // kept to count the files changed since the last run
  if (!code.empty()) {
    auto snapshot = workspace_.snapshots().Scan(LocalPath(code));
    if (!snapshot.ok()) {
      seen.status = snapshot.status();
      return seen;
    }
    code_snapshot = std::move(snapshot.value());
    seen.key_parts["code"] = code_snapshot.tree_digest;
  }
  if (r.type == "pipeline") {
    for (const auto& [step, run] : upstream_runs) seen.key_parts["step:" + step] = run;
  }
  if (r.type == "sweep") {
    std::string sweep;
    for (const char* field : {"search_space", "objective", "sampling_algorithm", "limits", "early_termination"}) {
      if (const Value* value = spec.Find(field)) sweep += std::string(field) + "=" + value->ToJson() + "\n";
    }
    seen.key_parts["sweep"] = Sha256Hex(sweep);
  }
  seen.key_parts["command"] = spec.StringAt("command");
  if (const Value* env = spec.Find("environment"); env && env->is_ref()) {
    auto target = graph.Find(env->as_ref().target);
    seen.key_parts["environment"] = target ? graph.resource(*target).digest : env->as_ref().target;
  } else if (env) {
    seen.key_parts["environment"] = Sha256Hex(env->ToJson());
  }
  std::string compute = "local";
  if (const Value* ref = spec.Find("compute"); ref && ref->is_ref()) {
    auto target = graph.Find(ref->as_ref().target);
    if (target) compute = graph.resource(*target).type;
  }
  seen.key_parts["compute"] = compute;
  if (const Value* inputs = spec.Find("inputs"); inputs && inputs->is_map()) {
    for (const auto& [name, input] : inputs->entries()) {
      const Value* path = input.is_map() ? input.Find("path") : nullptr;
      std::string part;
      if (path && path->is_ref() && !path->as_ref().external) {
        const Ref& ref = path->as_ref();
        auto upstream = upstream_runs.find(ref.target);
        if (upstream == upstream_runs.end()) {
          seen.status = Status(StatusCode::kFailedPrecondition, "input '" + name + "' has no upstream run");
          return seen;
        }
        auto run = workspace_.state().GetRun(upstream->second);
        nlohmann::json outputs = run.ok() && run.value()
                                     ? nlohmann::json::parse(run.value()->outputs_json, nullptr, false)
                                     : nlohmann::json();
        std::string output = ref.member.substr(ref.member.find('.') + 1);
        part = outputs.is_object() && outputs.contains(output) ? outputs[output].value("digest", "") : "";
      } else if (path && path->is_string()) {
        part = PathDigest(LocalPath(path->as_string()));
      } else {
        part = input.ToJson();
      }
      seen.key_parts["input:" + name] = part;
    }
  }
  seen.run_key = Sha256Hex(Join(seen.key_parts));
  if (auto done = workspace_.state().FindCompletedRun(r.id(), seen.run_key); done.ok() && done.value()) {
    seen.completed_run = done.value()->id;
    std::lock_guard<std::mutex> lock(mutex_);
    run_of_[r.id()] = seen.completed_run;
  }
  if (auto active = workspace_.state().FindActiveRuns(r.id(), seen.run_key); active.ok() && !active->empty()) {
    seen.active_run = active->front().id;
  }
  RunQuery query;
  query.job_id = r.id();
  query.limit = 1;
  if (auto last = workspace_.state().ListRuns(query); last.ok() && !last->empty()) {
    nlohmann::json params = nlohmann::json::parse(last->front().params_json, nullptr, false);
    if (params.is_object() && params.contains("key_parts")) {
      for (auto& [key, value] : params["key_parts"].items()) seen.last_parts[key] = value.get<std::string>();
    }
    if (seen.last_parts.count("code") && seen.key_parts.count("code") &&
        seen.last_parts["code"] != seen.key_parts["code"]) {
      auto before = workspace_.snapshots().Load(seen.last_parts["code"]);
      if (before.ok()) {
        std::map<std::string, std::string> old_files, new_files;
        for (const SnapshotFile& f : before->files) old_files[f.path] = f.digest;
        for (const SnapshotFile& f : code_snapshot.files) new_files[f.path] = f.digest;
        int changed = 0;
        for (const auto& [path, digest] : new_files) changed += !old_files.count(path) || old_files[path] != digest;
        for (const auto& [path, digest] : old_files) changed += !new_files.count(path);
        seen.changed_files = changed;
      }
    }
  }
  return seen;
}

ActionResult Applier::Run(const Action& action, const std::function<void(const std::string&)>& progress) {
  // Every action is an activity: what, on what, since when, how it ended.
  ActivityRecord activity;
  activity.kind = compiler::planner::ActionName(action.type);
  activity.resource_id = action.resource_id;
  activity.status = "Running";
  activity.started_at = NowMillis();
  auto started = workspace_.state().StartActivity(activity);
  if (started.ok()) activity.id = started.value();
  ActionResult result = RunAction(action, [&](const std::string& status) {
    if (status.rfind("run ", 0) == 0) activity.run_id = status.substr(4);
    progress(status);
  });
  activity.status = result.outcome == Outcome::kSucceeded ? "Succeeded" : "Failed";
  activity.progress = 1;
  activity.message = result.message;
  activity.ended_at = NowMillis();
  if (started.ok()) workspace_.state().UpdateActivity(activity);
  return result;
}

ActionResult Applier::RunAction(const Action& action,
                                const std::function<void(const std::string&)>& progress) {
  if (action.type == ActionType::kDelete) {
    if (purge_ && action.kind == "job") {
      if (Status status = PurgeHistory(action.resource_id); !status.ok()) {
        return {Outcome::kFailed, status.message()};
      }
    }
    if (action.kind == "endpoint" || action.kind == "deployment") {
      ActionResult stopped = DeleteService(action);
      if (stopped.outcome != Outcome::kSucceeded) return stopped;
    }
    if (purge_ && (action.kind == "model" || action.kind == "image")) {
      if (Status status = PurgeArtifacts(action.resource_id, action.kind); !status.ok()) {
        return {Outcome::kFailed, status.message()};
      }
    }
    Status status = workspace_.state().DeleteResource(action.resource_id);
    return status.ok() ? ActionResult{Outcome::kSucceeded, "removed"}
                       : ActionResult{Outcome::kFailed, status.message()};
  }
  auto index = graph_.Find(action.resource_id);
  if (!index) return {Outcome::kFailed, action.resource_id + " is not in the specs"};
  const Resource& r = graph_.resource(*index);
  if (action.type == ActionType::kRun) return RunJob(action, r, progress);
  if (r.kind == "model") return ApplyModel(action, r);
  if (r.kind == "image") return ApplyImage(action, r, progress);
  if (r.kind == "endpoint") return ApplyEndpoint(r);
  if (r.kind == "deployment") return ApplyDeployment(r, progress);
  return ApplyRecord(action, r);
}

ActionResult Applier::ApplyRecord(const Action& action, const Resource& r) {
  if (r.kind == "experiment") {
    if (Status s = workspace_.state().EnsureExperiment(r.name); !s.ok()) return {Outcome::kFailed, s.message()};
  }
  if (r.kind == "environment") {
    std::string python = r.spec.StringAt("python");
    if (!python.empty() && access(python.c_str(), X_OK) != 0) {
      return {Outcome::kFailed, "interpreter '" + python + "' does not exist or is not executable"};
    }
  }
  if (r.kind == "datastore") {
    std::string path = r.spec.StringAt("path");
    std::error_code error;
    if (!path.empty()) fs::create_directories(path[0] == '/' ? path : workspace_.home() + "/" + path, error);
    if (error) return {Outcome::kFailed, "cannot create the datastore folder: " + error.message()};
  }
  if (Status status = RecordApplied(r, "{}"); !status.ok()) return {Outcome::kFailed, status.message()};
  return {Outcome::kSucceeded, action.type == ActionType::kCreate ? "created" : "updated"};
}

std::string Applier::InputValue(const Value& input) {
  if (!input.is_map()) {
    return input.is_string() ? input.as_string() : input.ToJson();
  }
  const Value* path = input.Find("path");
  if (path && path->is_string()) return LocalPath(path->as_string());
  if (path && path->is_ref() && !path->as_ref().external) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto run = run_of_.find(path->as_ref().target);
    if (run != run_of_.end()) {
      return workspace_.run_outputs(run->second) + "/" +
             path->as_ref().member.substr(path->as_ref().member.find('.') + 1);
    }
  }
  for (const char* literal : {"value", "default"}) {
    if (const Value* v = input.Find(literal)) return v->is_string() ? v->as_string() : v->ToJson();
  }
  return "";
}

std::string Applier::ExpandCommand(const Resource& job, const Value& spec, const std::string& work) {
  std::string command = spec.StringAt("command");
  const Value* inputs = spec.Find("inputs");
  std::string out;
  for (size_t i = 0; i < command.size();) {
    if (command.compare(i, 3, "$[[") == 0 || command.compare(i, 2, "]]") == 0) {
      i += command.compare(i, 3, "$[[") == 0 ? 3 : 2;  // optional segments: every input is given
      continue;
    }
    if (command.compare(i, 3, "${{") != 0) {
      out += command[i++];
      continue;
    }
    size_t close = command.find("}}", i);
    std::string expression = command.substr(i + 3, close - i - 3);
    expression.erase(0, expression.find_first_not_of(' '));
    expression.erase(expression.find_last_not_of(' ') + 1);
    if (expression.rfind("inputs.", 0) == 0 && inputs) {
      const Value* input = inputs->Find(expression.substr(7));
      out += input ? InputValue(*input) : "";
    } else if (expression.rfind("outputs.", 0) == 0) {
      out += work + "/outputs/" + expression.substr(8);
    } else if (expression == "name") {
      out += job.name;
    }
    i = close + 2;
  }
  return out;
}

StatusOr<std::string> Applier::PythonOf(const Value& spec) {
  const Value* env = spec.Find("environment");
  const Value* definition = nullptr;
  std::string digest;
  if (env && env->is_ref()) {
    if (auto target = graph_.Find(env->as_ref().target)) {
      definition = &graph_.resource(*target).spec;
      digest = graph_.resource(*target).digest;
    }
  } else if (env && env->is_map()) {
    definition = env;
    digest = Sha256Hex(env->ToJson());
  }
  if (!definition) return std::string();
  std::string python = definition->StringAt("python");
  const Value* requirements = definition->Find("pip_requirements");
  if (!python.empty() || !requirements) return python;
  // A requirements list: a venv made once per environment digest.
  std::vector<std::string> lines;
  if (requirements->is_string()) {
    auto read = ReadRequirements(LocalPath(requirements->as_string()));
    if (!read.ok()) return read.status();
    lines = read.value();
  } else {
    for (const Value& line : requirements->items()) {
      if (line.is_string()) lines.push_back(line.as_string());
    }
  }
  std::lock_guard<std::mutex> lock(venv_mutex_);  // two runs of one environment make it once
  return PrepareVenv(workspace_.home(), digest, lines);
}

RunRequest Applier::MakeRequest(const Resource& job, const std::string& run_id) {
  RunRequest request;
  const Value spec = EffectiveSpec(job);
  request.command = ExpandCommand(job, spec, runner_.work_dir(run_id));
  auto python = PythonOf(spec);
  if (python.ok()) {
    request.python = python.value();
  } else {
    request.environment_error = python.status().message();
  }
  if (const Value* outputs = spec.Find("outputs"); outputs && outputs->is_map()) {
    for (const auto& [name, output] : outputs->entries()) request.output_names.push_back(name);
  }
  if (const Value* variables = spec.Find("environment_variables"); variables && variables->is_map()) {
    for (const auto& [name, value] : variables->entries()) {
      request.env[name] = value.is_string() ? value.as_string() : value.ToJson();
    }
  }
  if (const Value* limits = spec.Find("limits"); limits && limits->is_map()) {
    if (const Value* timeout = limits->Find("timeout"); timeout && timeout->type() == Value::Type::kInt) {
      request.timeout_seconds = timeout->as_int();
    }
  }
  return request;
}

ActionResult Applier::RunJob(const Action& action, const Resource& job,
                             const std::function<void(const std::string&)>& progress) {
  JobObservation seen = ObserveJob(graph_, *graph_.Find(job.id()), UpstreamRuns(*graph_.Find(job.id())));
  if (!seen.status.ok()) return {Outcome::kFailed, seen.status.message()};
  bool forced = action.reasons.size() == 1 && action.reasons[0] == "--rerun";
  if (!seen.completed_run.empty() && !forced) {
    return {Outcome::kSucceeded, "up to date after all: run " + seen.completed_run};
  }
  RunRecord run;
  if (!seen.active_run.empty() && !forced) {
    auto active = workspace_.state().GetRun(seen.active_run);
    if (!active.ok() || !active.value()) return {Outcome::kFailed, "cannot read run " + seen.active_run};
    run = *active.value();
    runner_.Attach(run, MakeRequest(job, run.id), progress);
  } else {
    const Value spec = EffectiveSpec(job);
    std::string code = spec.StringAt("code");
    run.id = NewRunId(job.name);
    run.job_id = job.id();
    run.run_key = seen.run_key;
    const Value* experiment = job.spec.Find("experiment_name");
    if (!job.parent.empty()) {  // a step runs under its pipeline's experiment
      if (auto parent = graph_.Find(job.parent)) experiment = graph_.resource(*parent).spec.Find("experiment_name");
    }
    run.experiment = experiment && experiment->is_ref()
                         ? experiment->as_ref().target.substr(experiment->as_ref().target.find('/') + 1)
                         : job.name;
    run.compute = seen.key_parts["compute"];
    run.created_at = NowMillis();
    run.spec_commit = spec_commit_;
    nlohmann::json params;
    params["key_parts"] = seen.key_parts;
    if (const Value* inputs = spec.Find("inputs")) params["inputs"] = nlohmann::json::parse(inputs->ToJson());
    run.params_json = params.dump();
    if (Status s = workspace_.state().EnsureExperiment(run.experiment); !s.ok()) return {Outcome::kFailed, s.message()};
    if (!code.empty()) {
      auto snapshot = workspace_.snapshots().Take(LocalPath(code));
      if (!snapshot.ok()) return {Outcome::kFailed, snapshot.status().message()};
      run.snapshot_digest = snapshot->tree_digest;
    }
    RunRequest request = MakeRequest(job, run.id);
    if (!request.environment_error.empty()) return {Outcome::kFailed, request.environment_error};
    run.command = request.command;
    if (Status s = workspace_.state().InsertRun(run); !s.ok()) return {Outcome::kFailed, s.message()};
    if (!trigger_.empty()) workspace_.state().SetRunTag(run.id, "amlc.trigger", trigger_);
    progress("run " + run.id);
    if (job.type == "pipeline") {
      FinishPipelineRun(run, seen);
    } else if (job.type == "sweep") {
      RunSweep(run, job, progress);
    } else {
      auto slot = AcquireSlot(ComputeOf(spec));
      runner_.Execute(run, request, progress);
    }
  }
  if (run.status != RunStatus::kCompleted) {
    return {Outcome::kFailed, "run " + run.id + " " + RunStatusName(run.status) +
                                  (run.error.empty() ? "" : ": " + run.error)};
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    run_of_[job.id()] = run.id;
  }
  if (Status status = RecordApplied(job, "{}"); !status.ok()) {
    return {Outcome::kFailed, "run " + run.id + " Completed, but recording it failed: " + status.message()};
  }
  return {Outcome::kSucceeded, "run " + run.id + " Completed"};
}

// A step's or component's spec as it runs: a pipeline step takes its
// component's command, code, environment and input defaults, then its own
// fields; ${{parent.inputs.X}} becomes the pipeline's input and
// ${{parent.jobs.S.outputs.O}} a reference to step S's output.
Value Applier::EffectiveSpec(const Resource& job) {
  Value spec = job.spec;
  if (job.type == "sweep") {  // the trial's code, command and environment
    Value trial = TrialSpec(job);
    for (const char* field : {"code", "command", "environment"}) {
      if (trial.Find(field)) spec.Set(field, *trial.Find(field));
    }
    return spec;
  }
  if (const Value* component = job.spec.Find("component"); component && component->is_ref()) {
    if (auto target = graph_.Find(component->as_ref().target)) {
      const Value& base = graph_.resource(*target).spec;
      for (const char* field : {"command", "code", "environment", "environment_variables", "resources"}) {
        if (!spec.Find(field) && base.Find(field)) spec.Set(field, *base.Find(field));
      }
      Value inputs = spec.Find("inputs") ? *spec.Find("inputs") : Value::EmptyMap();
      if (const Value* declared = base.Find("inputs"); declared && declared->is_map()) {
        for (const auto& [name, input] : declared->entries()) {
          if (inputs.Find(name)) continue;
          const Value* fallback = input.is_map() ? input.Find("default") : &input;
          if (fallback) inputs.Set(name, *fallback);
        }
      }
      spec.Set("inputs", inputs);
      if (!spec.Find("outputs") && base.Find("outputs")) spec.Set("outputs", *base.Find("outputs"));
    }
  }
  if (job.parent.empty()) return spec;
  auto parent = graph_.Find(job.parent);
  const Value* parent_inputs = parent ? graph_.resource(*parent).spec.Find("inputs") : nullptr;
  Value* inputs = spec.Find("inputs");
  if (!inputs || !inputs->is_map()) return spec;
  Value resolved = Value::EmptyMap();
  for (const auto& [name, input] : inputs->entries()) {
    std::string text = input.is_string() ? input.as_string() : "";
    std::string expression = text.size() > 5 && text.rfind("${{", 0) == 0
                                 ? text.substr(3, text.find("}}") - 3)
                                 : "";
    expression.erase(0, expression.find_first_not_of(' '));
    expression.erase(expression.find_last_not_of(' ') + 1);
    if (expression.rfind("parent.inputs.", 0) == 0 && parent_inputs) {
      const Value* value = parent_inputs->Find(expression.substr(14));
      resolved.Set(name, value ? *value : Value());
    } else if (expression.rfind("parent.jobs.", 0) == 0) {
      std::string rest = expression.substr(12);  // STEP.outputs.OUT
      std::string step = rest.substr(0, rest.find('.'));
      Value typed = Value::EmptyMap();
      typed.Set("type", Value::String("uri_folder"));
      typed.Set("path", Value::Reference({job.parent + "/" + step, rest.substr(step.size() + 1), false}));
      resolved.Set(name, typed);
    } else {
      resolved.Set(name, input);
    }
  }
  spec.Set("inputs", resolved);
  // Step outputs bound to the pipeline's (${{parent.outputs.X}}) are plain output folders.
  if (Value* outputs = spec.Find("outputs"); outputs && outputs->is_map()) {
    Value plain = Value::EmptyMap();
    for (const auto& [name, output] : outputs->entries()) plain.Set(name, output.is_string() ? Value() : output);
    spec.Set("outputs", plain);
  }
  return spec;
}

// A pipeline's own run is the parent of its steps' runs: it completes once
// they have, and records which step runs made it.
void Applier::FinishPipelineRun(RunRecord& run, const compiler::planner::JobObservation& seen) {
  run.status = RunStatus::kCompleted;
  run.started_at = run.created_at;
  run.ended_at = NowMillis();
  nlohmann::json outputs = nlohmann::json::object();
  for (const auto& [part, step_run] : seen.key_parts) {
    if (part.rfind("step:", 0) != 0) continue;
    auto step = workspace_.state().GetRun(step_run);
    if (!step.ok() || !step.value()) continue;
    RunRecord child = *step.value();
    if (child.parent_run_id.empty()) {
      child.parent_run_id = run.id;
      workspace_.state().UpdateRun(child);
    }
    outputs[part.substr(5)] = child.id;
  }
  run.outputs_json = outputs.dump();
  workspace_.state().UpdateRun(run);
}

Applier::ComputeSlot::~ComputeSlot() {
  std::lock_guard<std::mutex> lock(applier_.mutex_);
  --applier_.slots_in_use_[compute_];
  applier_.slot_freed_.notify_all();
}

std::unique_ptr<Applier::ComputeSlot> Applier::AcquireSlot(const std::string& compute_id) {
  int64_t limit = 0;  // 0: no limit of its own
  if (auto target = graph_.Find(compute_id)) {
    const Value* max = graph_.resource(*target).spec.Find("max_concurrent");
    if (max && max->type() == Value::Type::kInt) limit = max->as_int();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  slot_freed_.wait(lock, [&] { return limit <= 0 || slots_in_use_[compute_id] < limit; });
  ++slots_in_use_[compute_id];
  return std::make_unique<ComputeSlot>(*this, compute_id);
}

std::string Applier::ComputeOf(const Value& spec) {
  const Value* compute = spec.Find("compute");
  return compute && compute->is_ref() ? compute->as_ref().target : "compute/local";
}

Status Applier::PurgeHistory(const std::string& job_id) {
  auto deleted = workspace_.state().DeleteRunsOfJob(job_id);
  if (!deleted.ok()) return deleted.status();
  std::error_code error;
  for (const std::string& run : deleted.value()) {
    fs::remove_all(workspace_.run_dir(run), error);
    fs::remove_all(fs::path(workspace_.run_outputs(run)).parent_path(), error);
  }
  return Status::Ok();
}

int Applier::ReapDeadRuns() {
  RunQuery query;
  query.status = RunStatus::kRunning;
  auto running = workspace_.state().ListRuns(query);
  if (!running.ok()) return 0;
  int reaped = 0;
  for (RunRecord run : running.value()) {
    if (run.pid > 0 && kill(static_cast<pid_t>(run.pid), 0) == 0) continue;  // still running
    std::string exit_file = workspace_.run_dir(run.id) + "/exit_code";
    if (fs::exists(exit_file)) continue;  // finished; the next apply attaches and collects it
    run.status = RunStatus::kFailed;
    run.error = "its process died (the apply that started it was killed?)";
    run.ended_at = NowMillis();
    workspace_.state().UpdateRun(run);
    ++reaped;
  }
  return reaped;
}

}  // namespace amlc::runtime
