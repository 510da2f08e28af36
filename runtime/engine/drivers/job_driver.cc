#include "runtime/engine/drivers/job_driver.h"
#include "runtime/engine/drivers/run_params.h"

#include <time.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "base/digest.h"
#include "compiler/support/curated_names.h"
#include "runtime/artifacts/remote/url_cache.h"
#include "runtime/compute/containers.h"
#include "runtime/compute/curated_environments.h"
#include "runtime/compute/environments.h"
#include "runtime/compute/run_folder.h"
#include "runtime/compute/run_reporting.h"
#include "base/clock.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using compiler::ir::Expression;
using compiler::ir::JobInput;
using compiler::ir::JobSpec;
using compiler::ir::Ref;
using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::Observation;

namespace {

// "<job>-<yyyymmdd-hhmmss>-<4 hex>". Called from parallel actions: the time
// is formatted with gmtime_r and each thread draws from its own generator.
std::string NewRunId(const std::string& job_name) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  thread_local std::mt19937 random{std::random_device{}()};
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

// The fields of a sweep that decide its trials.
std::string SweepPart(const Value& spec) {
  std::string sweep;
  for (const char* field : {"search_space", "objective", "sampling_algorithm", "limits", "early_termination"}) {
    if (const Value* value = spec.Find(field)) sweep += std::string(field) + "=" + value->ToJson() + "\n";
  }
  return Sha256Hex(sweep);
}

// The fields a run's result does not depend on but a reader may expect to
// start one; the plan says why they do not (planner.cc, UnkeyedReason).
std::map<std::string, std::string> UnkeyedParts(const Value& spec) {
  std::map<std::string, std::string> parts;
  for (const char* field : {"limits", "resources", "distribution", "compute"}) {
    if (const Value* value = spec.Find(field)) parts[field] = Sha256Hex(value->ToJson());
  }
  return parts;
}

// Files added, changed or removed between two snapshots.
int ChangedFiles(const Snapshot& before, const Snapshot& after) {
  std::map<std::string, std::string> old_files, new_files;
  for (const SnapshotFile& f : before.files) old_files[f.path] = f.digest;
  for (const SnapshotFile& f : after.files) new_files[f.path] = f.digest;
  int changed = 0;
  for (const auto& [path, digest] : new_files) changed += !old_files.count(path) || old_files[path] != digest;
  for (const auto& [path, digest] : old_files) changed += !new_files.count(path);
  return changed;
}

// An input as the plan shows it: a path input by its path, a literal by its value.
std::string ShownInput(const nlohmann::json& input) {
  if (input.is_object()) {
    if (input.contains("$ref") && input["$ref"].is_string()) return input["$ref"].get<std::string>();  // a URL
    for (const char* field : {"path", "value", "default"}) {
      if (input.contains(field)) return ShownInput(input[field]);
    }
  }
  return input.is_string() ? input.get<std::string>() : input.dump();
}

// "Failed: exit code 1": how a run ended, on one line.
std::string OutcomeOf(const RunRecord& run) {
  std::string outcome = RunStatusName(run.status);
  if (!run.error.empty()) outcome += ": " + run.error.substr(0, run.error.find_first_of(";\n"));
  return outcome;
}

// The compute types whose runs go into their environment's image with podman.
bool RunsImages(const std::string& compute_type) { return compute_type == "local" || compute_type == "slurm"; }

}  // namespace

std::string JobDriver::PoolOf(const Value& fields) {
  const Value* compute = fields.Find("compute");
  return compute && compute->is_ref() ? compute->as_ref().target : "compute/local";
}

StatusOr<const JobSpec*> JobDriver::EffectiveOf(const Resource& job) {
  if (!job.effective) return Status(StatusCode::kFailedPrecondition, job.id() + " was not lowered by the compiler");
  return &*job.effective;
}

StatusOr<Observation> JobDriver::Observe(const Resource& job, const std::map<std::string, std::string>& upstream_runs) {
  Observation seen;
  auto lowered = EffectiveOf(job);
  if (!lowered.ok()) return lowered.status();
  const Value& spec = lowered.value()->fields;
  Snapshot code;  // kept to count the files changed since the last run
  if (std::string folder = spec.StringAt("code"); !folder.empty()) {
    auto snapshot = context_.workspace().snapshots().Scan(context_.LocalPath(folder));
    if (!snapshot.ok()) return snapshot.status();
    code = std::move(snapshot.value());
    seen.key_parts["code"] = code.tree_digest;
  }
  if (job.type == "pipeline") {
    for (const auto& [step, run] : upstream_runs) seen.key_parts["step:" + step] = run;
  }
  if (job.type == "sweep") {
    seen.key_parts["sweep"] = SweepPart(spec);
    // The trial's outputs are what a sweep hands on (its best trial's).
    if (job.trial) AddOutputPart(job.trial->fields, seen, "trial_outputs");
  }
  seen.key_parts["command"] = lowered.value()->command.source;
  auto curated = CuratedOf(spec);
  if (!curated.ok()) return curated.status();
  AddEnvironmentParts(spec, seen);
  if (curated.value()) seen.key_parts["environment"] = "curated:" + curated.value()->Digest();
  if (Status image = CheckImage(spec, seen); !image.ok()) return image;
  CheckConda(spec, seen);
  seen.key_parts["compute"] = context_.ComputeOf(spec).type;
  if (Status status = AddInputParts(job, *lowered.value(), upstream_runs, seen); !status.ok()) return status;
  for (const auto& [name, input] : lowered.value()->inputs) {
    seen.inputs[name] = ShownInput(nlohmann::json::parse(input.AsWritten().ToJson(), nullptr, false));
  }
  AddOutputPart(spec, seen);
  seen.key = Sha256Hex(Join(seen.key_parts));
  seen.unkeyed_parts = UnkeyedParts(spec);
  if (auto done = context_.state().FindCompletedRun(job.id(), seen.key); done.ok() && done.value()) {
    seen.current = done.value()->id;
  }
  if (auto active = context_.state().FindActiveRuns(job.id(), seen.key); active.ok() && !active->empty()) {
    seen.in_progress = active->front().id;
  }
  ReadLastRun(job, code, seen);
  return seen;
}

// The environment: its spec's digest, the contents of the files it names
// (a requirements or conda file edited in place changes what is installed),
// and the variables the job sets for its process. Parts that are empty are
// left out, so jobs without them keep the keys of their earlier runs.
void JobDriver::AddEnvironmentParts(const Value& spec, Observation& seen) {
  const Value* env = spec.Find("environment");
  const Value* definition = env && env->is_map() ? env : nullptr;
  if (env && env->is_ref()) {
    const Resource* target = context_.Find(env->as_ref().target);
    seen.key_parts["environment"] = target ? target->digest : env->as_ref().target;
    if (target) definition = &target->spec;
  } else if (env) {
    seen.key_parts["environment"] = Sha256Hex(env->ToJson());
  }
  std::string files;
  for (const char* field : {"conda_file", "pip_requirements"}) {
    const Value* file = definition ? definition->Find(field) : nullptr;
    if (file && file->is_string()) {
      files += std::string(field) + "=" + context_.PathDigest(context_.LocalPath(file->as_string())) + "\n";
    }
  }
  if (!files.empty()) seen.key_parts["environment_files"] = Sha256Hex(files);
  const Value* variables = spec.Find("environment_variables");
  if (variables && variables->is_map() && !variables->entries().empty()) {
    std::map<std::string, std::string> sorted;  // the order they are written in changes nothing
    for (const auto& [name, value] : variables->entries()) sorted[name] = value.ToJson();
    seen.key_parts["environment_variables"] = Sha256Hex(Join(sorted));
  }
}

const Value* JobDriver::EnvironmentOf(const Value& spec, std::string& name) {
  const Value* env = spec.Find("environment");
  name = "inline";
  if (env && env->is_map()) return env;
  if (!env || !env->is_ref()) return nullptr;
  const Resource* target = context_.Find(env->as_ref().target);
  if (target) name = target->name;
  return target ? &target->spec : nullptr;
}

std::string JobDriver::ContainerImageOf(const Value& spec) {
  std::string name;
  const Value* definition = EnvironmentOf(spec, name);
  std::string image = definition ? definition->StringAt("image") : "";
  if (image.empty() || !RunsImages(context_.ComputeOf(spec).type)) return "";
  return ImageUnusable(image) ? "" : image;
}

// A run on the local or a Slurm target runs in its environment's image with
// podman when the image is in podman's store (on a cluster, every node's
// store must hold it); an ssh host runs an interpreter. Where the image
// cannot be used the plan says so, never silently dropping it.
Status JobDriver::CheckImage(const Value& spec, Observation& seen) {
  std::string name;
  const Value* definition = EnvironmentOf(spec, name);
  std::string image = definition ? definition->StringAt("image") : "";
  if (image.empty()) return Status::Ok();
  ComputeChoice compute = context_.ComputeOf(spec);
  if (compute.type != "ssh" && !RunsImages(compute.type)) return Status::Ok();  // kubernetes runs it in the image
  std::optional<std::string> unusable = compute.type == "ssh"
                                            ? std::optional<std::string>("runs on ssh hosts do not run in images")
                                            : ImageUnusable(image);
  if (!unusable) return Status::Ok();  // the target runs it with podman
  bool ssh = compute.type == "ssh";
  std::string instead = !definition->StringAt("python").empty() ? definition->StringAt("python")
                        : definition->Find("pip_requirements")
                            ? (ssh ? "a venv over the host's python3" : "a venv over this machine's python3")
                        : ssh                      ? "the host's python3"
                        : compute.type == "slurm" ? "the python3 on the nodes' PATH"
                                                  : "the python3 on this machine's PATH";
  std::string what = "environment '" + name + "' names image '" + image + "', which " + compute.type +
                     " compute '" + compute.name + "' cannot run: " + *unusable;
  const Value* required = definition->Find("require_image");
  if (required && required->type() == Value::Type::kBool && required->as_bool()) {
    return Status(StatusCode::kFailedPrecondition,
                  what + ", and the environment sets require_image: true; run the job on a kubernetes compute "
                         "(amlc render), or drop require_image to let it run with " + instead);
  }
  seen.warnings.push_back(what + ": the job runs with " + instead +
                          " instead (set require_image: true in the environment to refuse)");
  return Status::Ok();
}

// A conda file is not installed by amlc (no conda here, and nothing is
// downloaded): an environment that gives only a conda file runs with an
// interpreter that may lack its packages, and the plan says which.
void JobDriver::CheckConda(const Value& spec, Observation& seen) {
  std::string name;
  const Value* definition = EnvironmentOf(spec, name);
  if (!definition || !definition->Find("conda_file") || !definition->StringAt("python").empty() ||
      definition->Find("pip_requirements")) {
    return;
  }
  ComputeChoice compute = context_.ComputeOf(spec);
  if (compute.type == "kubernetes" || !ContainerImageOf(spec).empty()) return;  // the image holds it
  std::string instead = compute.type == "ssh"     ? "the host's python3"
                        : compute.type == "slurm" ? "the python3 on the nodes' PATH"
                                                  : "the python3 on this machine's PATH";
  seen.warnings.push_back("environment '" + name + "' gives a conda_file, which amlc does not install (it makes no "
                          "conda environments and downloads nothing): the job runs with " + instead +
                          " instead, whose packages are not checked; name an interpreter that has them (python:) "
                          "or list them as pip_requirements to have them checked");
}

// The declared outputs decide which folders are collected and recorded, so
// a run made before an output was declared does not have it.
void JobDriver::AddOutputPart(const Value& spec, Observation& seen, const std::string& part) {
  const Value* outputs = spec.Find("outputs");
  if (!outputs || !outputs->is_map() || outputs->entries().empty()) return;
  std::vector<std::string> names;
  for (const auto& [name, output] : outputs->entries()) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const std::string& name : names) joined += name + "\n";
  seen.key_parts[part] = Sha256Hex(joined);
}

StatusOr<std::string> JobDriver::InputPart(const std::string& name, const Value& input,
                                           const std::map<std::string, std::string>& upstream_runs) {
  const Value* path = input.is_map() ? input.Find("path") : nullptr;
  if (path && path->is_ref() && !path->as_ref().external) {
    const Ref& ref = path->as_ref();
    auto upstream = upstream_runs.find(ref.target);
    if (upstream == upstream_runs.end()) {
      return Status(StatusCode::kFailedPrecondition, "input '" + name + "' has no upstream run");
    }
    auto run = context_.state().GetRun(upstream->second);
    nlohmann::json outputs = run.ok() && run.value()
                                 ? nlohmann::json::parse(run.value()->outputs_json, nullptr, false)
                                 : nlohmann::json();
    std::string output = ref.member.substr(ref.member.find('.') + 1);
    return outputs.is_object() && outputs.contains(output) ? outputs[output].value("digest", "") : "";
  }
  if (path && path->is_string()) return context_.PathDigest(context_.LocalPath(path->as_string()));
  if (path && path->is_ref() && IsFetchableUrl(path->as_ref().target)) {
    auto fetched = FetchUrl(UrlCacheDir(), path->as_ref().target);
    if (!fetched.ok()) return Status(fetched.status().code(), "input '" + name + "': " + fetched.status().message());
    return "url:" + fetched->digest;
  }
  return input.ToJson();
}

std::string JobDriver::UrlCacheDir() { return context_.workspace().home() + "/url-cache"; }

const JobInput* JobDriver::ParentInput(const Resource& step, const std::string& name) {
  const Resource* parent = context_.Find(step.parent);
  if (!parent || !parent->effective) return nullptr;
  auto input = parent->effective->inputs.find(name);
  return input == parent->effective->inputs.end() ? nullptr : &input->second;
}

Status JobDriver::AddInputParts(const Resource& job, const JobSpec& spec,
                                const std::map<std::string, std::string>& upstream_runs, Observation& seen) {
  for (const auto& [name, bound] : spec.inputs) {
    // A trial's binding as written: the sweep's key holds it so.
    auto part = InputPart(name, bound.AsWritten(), upstream_runs);
    if (!part.ok()) return part.status();
    seen.key_parts["input:" + name] = part.value();
  }
  // A step's command may read the pipeline's inputs itself: their values are part of what it runs.
  for (const Expression* expression : compiler::ir::ExpressionsOf(spec.command)) {
    if (expression->kind != Expression::Kind::kParentInput) continue;
    const JobInput* input = ParentInput(job, expression->name);
    auto part = InputPart(expression->name, input ? input->AsWritten() : Value(), upstream_runs);
    if (!part.ok()) return part.status();
    seen.key_parts["parent_input:" + expression->name] = part.value();
  }
  return Status::Ok();
}

// The key parts of the job's newest run, and how many code files changed since.
void JobDriver::ReadLastRun(const Resource& job, const Snapshot& code, Observation& seen) {
  RunQuery query;
  query.job_id = job.id();
  query.keyed_only = true;  // a sweep's trials are newer than its run and have no key of their own
  query.limit = 1;
  auto last = context_.state().ListRuns(query);
  if (!last.ok() || last->empty()) return;
  seen.last_run = last->front().id;
  seen.last_outcome = OutcomeOf(last->front());
  nlohmann::json params = nlohmann::json::parse(last->front().params_json, nullptr, false);
  if (params.is_object() && params.contains("key_parts")) {
    for (auto& [key, value] : params["key_parts"].items()) seen.last_parts[key] = value.get<std::string>();
  }
  if (params.is_object() && params.contains("inputs") && params["inputs"].is_object()) {
    for (auto& [name, value] : params["inputs"].items()) seen.last_inputs[name] = ShownInput(value);
  }
  if (params.is_object() && params.contains("unkeyed_parts") && params["unkeyed_parts"].is_object()) {
    std::map<std::string, std::string> last;  // runs recorded before amlc kept these have none
    for (auto& [field, digest] : params["unkeyed_parts"].items()) {
      if (digest.is_string()) last[field] = digest.get<std::string>();
    }
    for (const char* field : {"limits", "resources", "distribution", "compute"}) {
      auto before = last.find(field);
      auto now = seen.unkeyed_parts.find(field);
      bool same = (before == last.end()) == (now == seen.unkeyed_parts.end()) &&
                  (now == seen.unkeyed_parts.end() || before->second == now->second);
      if (!same) seen.unkeyed_changes.push_back(field);
    }
  }
  if (!seen.last_parts.count("code") || !seen.key_parts.count("code") ||
      seen.last_parts["code"] == seen.key_parts["code"]) {
    return;
  }
  if (auto before = context_.workspace().snapshots().Load(seen.last_parts["code"]); before.ok()) {
    seen.changed_files = ChangedFiles(before.value(), code);
  }
}

std::optional<std::string> JobDriver::InputValue(const Value& input) {
  if (input.is_null()) return std::nullopt;
  if (!input.is_map()) return input.is_string() ? input.as_string() : input.ToJson();
  if (std::optional<std::string> path = InputPath(input)) return path;
  for (const char* literal : {"value", "default"}) {
    if (const Value* v = input.Find(literal)) return v->is_string() ? v->as_string() : v->ToJson();
  }
  return std::nullopt;
}

std::optional<std::string> JobDriver::InputPath(const Value& input) {
  if (!input.is_map()) return std::nullopt;
  const Value* path = input.Find("path");
  if (path && path->is_string()) return context_.LocalPath(path->as_string());
  if (path && path->is_ref() && !path->as_ref().external) {
    if (auto run_id = context_.CompletedRun(path->as_ref().target)) {
      std::string output = path->as_ref().member.substr(path->as_ref().member.find('.') + 1);
      auto run = context_.state().GetRun(*run_id);
      if (run.ok() && run.value()) return context_.OutputPath(*run.value(), output);
      return context_.workspace().run_outputs(*run_id) + "/" + output;
    }
  }
  if (path && path->is_ref() && IsFetchableUrl(path->as_ref().target)) {
    // Fetched when the run was planned: the cache answers from its copy.
    auto fetched = FetchUrl(UrlCacheDir(), path->as_ref().target);
    if (!fetched.ok()) return std::nullopt;
    if (input.StringAt("type") != "uri_folder") return fetched->file;
    auto folder = FolderOf(UrlCacheDir(), path->as_ref().target, fetched.value());
    return folder.ok() ? std::optional<std::string>(folder.value()) : std::nullopt;
  }
  return std::nullopt;
}

namespace {

// What ${{outputs.NAME}} stands for in a command: the output's folder, or
// for a uri_file output a file in that folder, named as the output's path
// names it (else as the output), as Azure ML mounts one.
std::string OutputArgument(const Value& fields, const std::string& outputs_dir, const std::string& name) {
  const Value* outputs = fields.Find("outputs");
  const Value* output = outputs && outputs->is_map() ? outputs->Find(name) : nullptr;
  if (!output || !output->is_map() || output->StringAt("type") != "uri_file") return outputs_dir + name;
  const Value* path = output->Find("path");
  std::string declared = !path ? "" : path->is_string() ? path->as_string() : path->is_ref() ? path->as_ref().target : "";
  std::string file = fs::path(declared).filename().string();
  return outputs_dir + name + "/" + (file.empty() ? name : file);
}

}  // namespace

std::vector<RunInput> JobDriver::InputPaths(const Resource& job, const JobSpec& spec) {
  std::vector<RunInput> inputs;
  for (const auto& [name, input] : spec.inputs) {
    if (input.binding) continue;  // a trial's search-space value, never a path
    if (std::optional<std::string> path = InputPath(input.value)) inputs.push_back({name, *path});
  }
  for (const Expression* expression : compiler::ir::ExpressionsOf(spec.command)) {
    if (expression->kind != Expression::Kind::kParentInput) continue;
    const JobInput* input = ParentInput(job, expression->name);
    std::optional<std::string> path = input ? InputPath(input->value) : std::nullopt;
    if (path) inputs.push_back({"parent." + expression->name, *path});
  }
  return inputs;
}

// The command with each expression's value: the lowering left only inputs,
// outputs, search-space entries and the job's name in commands.
std::string JobDriver::ExpandCommand(const Resource& job, const JobSpec& spec, const std::string& work,
                                     const std::map<std::string, Value>* trial) {
  auto trial_value = [&](const Expression& entry) -> std::optional<std::string> {
    if (!trial) return entry.text;  // the sweep's own run shows what its trials bind
    auto value = trial->find(entry.name);
    if (value == trial->end()) return std::nullopt;
    return value->second.is_string() ? value->second.as_string() : value->second.ToJson();
  };
  return compiler::ir::Render(spec.command, [&](const Expression& e) -> std::optional<std::string> {
    switch (e.kind) {
      case Expression::Kind::kInput: {
        auto input = spec.inputs.find(e.name);
        if (input == spec.inputs.end()) return std::nullopt;
        if (input->second.binding) return trial_value(*input->second.binding);
        return InputValue(input->second.value);
      }
      case Expression::Kind::kOutput:
        return OutputArgument(spec.fields, work + "/outputs/", e.name);
      case Expression::Kind::kSearchSpace:
        return trial_value(e);
      case Expression::Kind::kJobName:
        return job.name;
      case Expression::Kind::kParentInput: {
        const JobInput* input = ParentInput(job, e.name);
        return input ? InputValue(input->value) : std::nullopt;
      }
      default:
        return std::nullopt;
    }
  });
}

StatusOr<std::optional<CuratedEnvironment>> JobDriver::CuratedOf(const Value& fields) {
  const Value* env = fields.Find("environment");
  if (!env || !env->is_ref() || context_.Find(env->as_ref().target)) return std::optional<CuratedEnvironment>();
  std::optional<std::string> name = compiler::CuratedEnvironmentName(env->as_ref().target);
  if (!name) return std::optional<CuratedEnvironment>();
  auto found = LookupCurated(*name);
  if (!found.ok()) return found.status();
  return std::optional<CuratedEnvironment>(found.value());
}

// A curated environment runs with the interpreter its catalog entry names,
// once that interpreter is seen to import the entry's modules.
StatusOr<std::string> JobDriver::CuratedPython(const CuratedEnvironment& curated) {
  std::string where = "curated environment '" + curated.name + "' (" + curated.source + " catalog)";
  if (curated.python.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  where + " maps to the image " + curated.image +
                      "; jobs on this compute target run with an interpreter: map the name to one in the JSON "
                      "file $AMLC_CURATED_ENVIRONMENTS names");
  }
  std::lock_guard<std::mutex> lock(venv_mutex_);
  if (Status imports = CheckImports(curated.python, curated.modules); !imports.ok()) {
    return Status(StatusCode::kFailedPrecondition,
                  where + ": " + imports.message() +
                      "; install what it lacks as Debian packages (python3-NAME), or map the name to an "
                      "interpreter that has it in the JSON file $AMLC_CURATED_ENVIRONMENTS names");
  }
  return curated.python;
}

StatusOr<std::optional<RunVenv>> JobDriver::VenvOf(const Value& fields) {
  std::string name;
  const Value* definition = EnvironmentOf(fields, name);
  const Value* requirements = definition ? definition->Find("pip_requirements") : nullptr;
  if (!requirements || !definition->StringAt("python").empty()) return std::optional<RunVenv>();
  // A declared environment is named by its resource's digest, an inline one by its own.
  const Value* env = fields.Find("environment");
  const Resource* declared = env->is_ref() ? context_.Find(env->as_ref().target) : nullptr;
  RunVenv venv{declared ? declared->digest : Sha256Hex(env->ToJson()), {}};
  if (requirements->is_string()) {
    auto read = ReadRequirements(context_.LocalPath(requirements->as_string()));
    if (!read.ok()) return read.status();
    venv.requirements = read.value();
  } else {
    for (const Value& line : requirements->items()) {
      if (line.is_string()) venv.requirements.push_back(line.as_string());
    }
  }
  return std::optional<RunVenv>(std::move(venv));
}

StatusOr<std::string> JobDriver::PythonOf(const Value& fields) {
  auto curated = CuratedOf(fields);
  if (!curated.ok()) return curated.status();
  if (curated.value()) return CuratedPython(*curated.value());
  auto venv = VenvOf(fields);
  if (!venv.ok()) return venv.status();
  if (venv.value()) {
    std::lock_guard<std::mutex> lock(venv_mutex_);
    return PrepareVenv(context_.workspace().home(), venv.value()->digest, venv.value()->requirements);
  }
  std::string name;
  const Value* definition = EnvironmentOf(fields, name);
  return definition ? definition->StringAt("python") : std::string();
}

RunRequest JobDriver::MakeRequest(const Resource& job, const JobSpec& lowered, const std::string& run_id,
                                  const std::map<std::string, Value>* trial) {
  RunRequest request;
  request.command = ExpandCommand(job, lowered, context_.workspace().run_dir(run_id) + "/work", trial);
  const Value& spec = lowered.fields;
  request.container_image = ContainerImageOf(spec);
  request.placement = PlacementOf(spec, context_.ComputeOf(spec));
  request.inputs = InputPaths(job, lowered);
  // An ssh host makes a requirements venv over its own python3; every other
  // target reaches this machine's files, where the venv is made once.
  auto venv = VenvOf(spec);
  if (venv.ok() && venv.value() && context_.ComputeOf(spec).type == "ssh") {
    request.venv = venv.value();
  } else if (auto python = PythonOf(spec); python.ok()) {
    request.python = python.value();
  } else {
    request.environment_error = python.status().message();
  }
  if (const Value* outputs = spec.Find("outputs"); outputs && outputs->is_map()) {
    for (const auto& [name, output] : outputs->entries()) {
      if (name == kArtifactsOutput && output.is_null()) {
        request.artifacts_output = true;
      } else {
        request.output_names.push_back(name);
      }
    }
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

Placement JobDriver::PlacementOf(const Value& spec, const ComputeChoice& compute) {
  Placement placement;
  placement.compute_name = compute.name;
  placement.spec_json = compute.spec_json;
  // The compute may be declared in these specs or only recorded in the workspace.
  nlohmann::json fields = nlohmann::json::parse(compute.spec_json, nullptr, false);
  if (fields.is_object()) {
    for (const auto& [field, value] : fields.items()) {
      if (value.is_string()) placement.settings[field] = value.get<std::string>();
      else if (value.is_number_integer()) placement.settings[field] = std::to_string(value.get<int64_t>());
    }
  }
  if (const Value* resources = spec.Find("resources"); resources && resources->is_map()) {
    placement.instance_count = resources->IntAt("instance_count", 1);
  }
  if (const Value* distribution = spec.Find("distribution"); distribution && distribution->is_map()) {
    placement.distribution = distribution->StringAt("type");
    placement.processes_per_node = distribution->IntAt("process_count_per_instance", 1);
    placement.worker_count = distribution->IntAt("worker_count", 0);
  }
  return placement;
}

// Records a new run of `job` (Queued, with its snapshot taken) and fills
// `request` for it.
StatusOr<RunRecord> JobDriver::NewRun(const Resource& job, const Observation& seen, RunRequest& request,
                                      const ByteSink& snapshot_bytes) {
  auto lowered = EffectiveOf(job);
  if (!lowered.ok()) return lowered.status();
  const Value& spec = lowered.value()->fields;
  RunRecord run;
  run.id = NewRunId(job.name);
  run.job_id = job.id();
  run.run_key = seen.key;
  const Value* experiment = job.spec.Find("experiment_name");
  if (!job.parent.empty()) {  // a step runs under its pipeline's experiment
    if (const Resource* parent = context_.Find(job.parent)) experiment = parent->spec.Find("experiment_name");
  }
  run.experiment = experiment && experiment->is_ref()
                       ? experiment->as_ref().target.substr(experiment->as_ref().target.find('/') + 1)
                       : job.name;
  run.compute = seen.key_parts.at("compute");
  run.created_at = NowMillis();
  run.spec_commit = context_.spec_commit();
  nlohmann::json params;
  params["key_parts"] = seen.key_parts;
  params["unkeyed_parts"] = seen.unkeyed_parts;
  if (!lowered.value()->inputs.empty()) {
    Value inputs = Value::EmptyMap();
    for (const auto& [name, input] : lowered.value()->inputs) inputs.Set(name, input.AsWritten());
    params["inputs"] = nlohmann::json::parse(inputs.ToJson());
  }
  run.params_json = params.dump();
  if (Status s = context_.state().EnsureExperiment(run.experiment); !s.ok()) return s;
  if (std::string code = spec.StringAt("code"); !code.empty()) {
    auto snapshot = context_.workspace().snapshots().Take(context_.LocalPath(code), snapshot_bytes);
    if (!snapshot.ok()) return snapshot.status();
    run.snapshot_digest = snapshot->tree_digest;
  }
  request = MakeRequest(job, *lowered.value(), run.id);
  if (!request.environment_error.empty()) return Status(StatusCode::kFailedPrecondition, request.environment_error);
  run.command = request.command;
  if (Status s = context_.state().InsertRun(run); !s.ok()) return s;
  if (Status s = context_.state().SetRunParams(run.id, ParamsOfInputs(lowered.value()->inputs)); !s.ok()) return s;
  if (!context_.trigger().empty()) context_.state().SetRunTag(run.id, "amlc.trigger", context_.trigger());
  return run;
}

void JobDriver::Adopt(RunRecord& run, const RunRequest& request, const Progress& progress) {
  ComputeTarget* target = TargetOf(run.compute);
  if (!target) {
    run.status = RunStatus::kFailed;
    run.error = "no driver for " + run.compute + " compute targets to follow it";
    run.ended_at = NowMillis();
    context_.state().UpdateRun(run);
    return;
  }
  RunRequest reporting_request = request;
  RunReporting reporting(context_.workspace(), run, reporting_request);
  if (!reporting.warning().empty()) progress(reporting.warning());
  target->Adopt(run, reporting_request, progress);
}

StatusOr<std::string> JobDriver::Apply(const Action& action, const Resource& job, const Progress& progress) {
  auto seen = Observe(job, context_.UpstreamRuns(*context_.graph().Find(job.id())));
  if (!seen.ok()) return seen.status();
  bool forced = action.reasons.size() == 1 && action.reasons[0] == "--rerun";
  if (!seen->current.empty() && !forced) {
    context_.SetCompletedRun(job.id(), seen->current);
    return "up to date after all: run " + seen->current;
  }
  RunRecord run;
  if (!seen->in_progress.empty() && !forced) {
    auto active = context_.state().GetRun(seen->in_progress);
    if (!active.ok() || !active.value()) return Status(StatusCode::kInternal, "cannot read run " + seen->in_progress);
    run = *active.value();
    auto lowered = EffectiveOf(job);
    if (!lowered.ok()) return lowered.status();
    Adopt(run, MakeRequest(job, *lowered.value(), run.id), progress);
  } else {
    RunRequest request;
    auto created = NewRun(job, seen.value(), request, progress.bytes());
    if (!created.ok()) return created.status();
    run = std::move(created.value());
    progress("run " + run.id);
    Carry(run, job, seen.value(), request, progress);
  }
  if (run.status != RunStatus::kCompleted) {
    return Status(StatusCode::kFailedPrecondition, "run " + run.id + " " + RunStatusName(run.status) +
                                                       (run.error.empty() ? "" : ": " + run.error));
  }
  context_.SetCompletedRun(job.id(), run.id);
  if (Status status = context_.RecordApplied(job, "{}"); !status.ok()) {
    return Status(status.code(), "run " + run.id + " Completed, but recording it failed: " + status.message());
  }
  return "run " + run.id + " Completed";
}

Status JobDriver::Delete(const Action& action, bool purge) {
  if (!purge) return Status::Ok();
  auto deleted = context_.state().DeleteRunsOfJob(action.resource_id);
  if (!deleted.ok()) return deleted.status();
  std::error_code error;
  for (const std::string& run : deleted.value()) {
    fs::remove_all(context_.workspace().run_dir(run), error);
    fs::remove_all(fs::path(context_.workspace().run_outputs(run)).parent_path(), error);
  }
  return Status::Ok();
}

std::string JobDriver::History(const std::string& resource_id) {
  RunQuery query;
  query.job_id = resource_id;
  auto runs = context_.state().ListRuns(query);
  if (!runs.ok() || runs->empty()) return "";
  return std::to_string(runs->size()) + (runs->size() == 1 ? " run" : " runs");
}

std::optional<std::string> CommandJobDriver::Unsupported(const Resource& job) {
  if (job.type == "command" && job.effective) {
    ComputeChoice compute = context_.ComputeOf(job.effective->fields);
    if (compute.type == "kubernetes") {
      return "runs on kubernetes compute '" + compute.name + "', and amlc reaches no cluster to run it on; "
             "render it as a batch/v1 Job with `amlc render DIR --target kubernetes -o OUT` and apply that with kubectl";
    }
  }
  if (job.type == "command") return std::nullopt;
  return "no driver for " + job.type + (job.parent.empty() ? " jobs" : " steps") + " yet";
}

void CommandJobDriver::Carry(RunRecord& run, const Resource& job, const Observation& seen, const RunRequest& request,
                             const Progress& progress) {
  ComputeTarget* target = TargetOf(run.compute);
  if (!target) {  // the plan defers jobs on compute without a driver; a saved plan may not
    run.status = RunStatus::kFailed;
    run.error = "no driver for " + run.compute + " compute targets";
    run.ended_at = NowMillis();
    context_.state().UpdateRun(run);
    return;
  }
  RunRequest reporting_request = request;
  RunReporting reporting(context_.workspace(), run, reporting_request);
  if (!reporting.warning().empty()) progress(reporting.warning());
  target->Run(run, reporting_request, progress);
}

int ReapLostRuns(EngineContext& context) {
  RunQuery query;
  query.status = RunStatus::kRunning;
  auto running = context.state().ListRuns(query);
  if (!running.ok()) return 0;
  int reaped = 0;
  for (RunRecord run : running.value()) {
    ComputeTarget* target = context.compute_targets().For(run.compute);
    if (!target || target->Observe(run) != RunLiveness::kLost) continue;
    run.status = RunStatus::kFailed;
    run.error = "its process died (the apply that started it was killed?)";
    run.ended_at = NowMillis();
    context.state().UpdateRun(run);
    ++reaped;
  }
  return reaped;
}

}  // namespace amlc::runtime
