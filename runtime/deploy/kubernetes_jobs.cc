#include "runtime/deploy/kubernetes_jobs.h"

#include <nlohmann/json.hpp>

namespace amlc::runtime::deploy {

namespace {

using json = nlohmann::ordered_json;
using compiler::ir::Expression;
using compiler::ir::Resource;
using compiler::ir::Value;

constexpr size_t kConfigMapLimit = 1000 * 1000;  // the API server refuses objects past 1 MiB
constexpr int kMasterPort = 29500;               // torch.distributed's default

std::string Literal(const Value& value) { return value.is_string() ? value.as_string() : value.ToJson(); }

// What an input puts in the command on the cluster: its literal value; a
// path (local files, upstream outputs) cannot travel there, so it is noted.
std::optional<std::string> InputText(const std::string& job, const std::string& name, const Value& input,
                                     std::vector<std::string>& notes) {
  if (input.is_null()) return std::nullopt;
  if (!input.is_map()) return Literal(input);
  for (const char* literal : {"value", "default"}) {
    if (const Value* v = input.Find(literal)) return Literal(*v);
  }
  if (input.Find("path")) {
    notes.push_back("job '" + job + "': input '" + name + "' is a path, which the cluster cannot read from here; "
                    "it is given as /amlc/inputs/" + name + ": mount a volume holding it there");
    return "/amlc/inputs/" + name;
  }
  return std::nullopt;
}

std::string CommandOf(const Resource& job, std::vector<std::string>& notes) {
  const compiler::ir::JobSpec& spec = *job.effective;
  return compiler::ir::Render(spec.command, [&](const Expression& e) -> std::optional<std::string> {
    switch (e.kind) {
      case Expression::Kind::kInput: {
        auto input = spec.inputs.find(e.name);
        return input == spec.inputs.end() ? std::nullopt : InputText(job.name, e.name, input->second.value, notes);
      }
      case Expression::Kind::kOutput:
        return "/amlc/outputs/" + e.name;
      case Expression::Kind::kJobName:
        return job.name;
      default:
        return std::nullopt;
    }
  });
}

int64_t IntAt(const Value& spec, const char* map, const char* field, int64_t fallback) {
  const Value* outer = spec.Find(map);
  const Value* value = outer && outer->is_map() ? outer->Find(field) : nullptr;
  return value && value->type() == Value::Type::kInt ? value->as_int() : fallback;
}

json Env(const std::string& name, const std::string& value) { return {{"name", name}, {"value", value}}; }

// The index Kubernetes gives each pod of an Indexed Job.
json IndexEnv(const std::string& name) {
  return {{"name", name},
          {"valueFrom",
           {{"fieldRef", {{"fieldPath", "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}}}};
}

// The shell lines that derive what a framework reads from the pod's index.
std::string DistributionPrelude(const std::string& type, const std::string& object, int64_t instances,
                                int64_t per_instance) {
  std::string world = std::to_string(instances * per_instance);
  if (type == "pytorch") {
    return "export NODE_RANK=$JOB_COMPLETION_INDEX LOCAL_RANK=0 RANK=$((JOB_COMPLETION_INDEX * " +
           std::to_string(per_instance) + ")) WORLD_SIZE=" + world + "; ";
  }
  if (type == "mpi") {
    return "export OMPI_COMM_WORLD_RANK=$JOB_COMPLETION_INDEX OMPI_COMM_WORLD_SIZE=" + std::to_string(instances) +
           " PMI_RANK=$JOB_COMPLETION_INDEX PMI_SIZE=" + std::to_string(instances) + "; ";
  }
  if (type == "tensorflow") {
    std::string workers;
    for (int64_t i = 0; i < instances; ++i) {
      workers += (i ? "," : "") + std::string("\\\"") + object + "-" + std::to_string(i) + "." + object + ":2222\\\"";
    }
    return "export TF_CONFIG=\"{\\\"cluster\\\":{\\\"worker\\\":[" + workers +
           "]},\\\"task\\\":{\\\"type\\\":\\\"worker\\\",\\\"index\\\":$JOB_COMPLETION_INDEX}}\"; ";
  }
  return "";
}

json Labels(const Resource& job, const std::string& object) {
  return {{"app.kubernetes.io/name", object}, {"app.kubernetes.io/managed-by", "amlc"}, {"amlc.ai/job", object}};
}

json Metadata(const TrainingJobInput& input, const std::string& name, const std::string& object) {
  json metadata = {{"name", name}, {"labels", Labels(*input.job, object)}};
  if (!input.namespace_name.empty()) metadata["namespace"] = input.namespace_name;
  return metadata;
}

}  // namespace

Status RenderTrainingJobs(const std::vector<TrainingJobInput>& jobs, RenderResult& result,
                          std::vector<std::string>& resources) {
  for (const TrainingJobInput& input : jobs) {
    const Resource& job = *input.job;
    std::string object = KubernetesName(job.name);
    if (input.image.empty()) {
      return Status(StatusCode::kInvalidArgument,
                    "job '" + job.name + "' runs on kubernetes but its environment names no `image` to run in");
    }
    const Value& spec = job.effective->fields;
    auto add = [&](const std::string& suffix, const std::string& kind, const json& manifest) {
      RenderedFile file{object + "-" + suffix + ".yaml", JsonToYaml(manifest.dump()), kind, job.name, false};
      resources.push_back(file.path);
      result.files.push_back(std::move(file));
    };
    json volumes = json::array();
    json mounts = json::array();
    if (!input.code_files.empty()) {
      json data = json::object();
      json items = json::array();
      size_t bytes = 0;
      for (size_t i = 0; i < input.code_files.size(); ++i) {
        std::string key = "f" + std::to_string(i);  // ConfigMap keys cannot hold '/'
        data[key] = input.code_files[i].second;
        items.push_back({{"key", key}, {"path", input.code_files[i].first}});
        bytes += input.code_files[i].second.size();
      }
      if (bytes > kConfigMapLimit) {
        return Status(StatusCode::kInvalidArgument,
                      "job '" + job.name + "': its code folder (" + std::to_string(bytes) +
                          " bytes) does not fit a ConfigMap; build it into the environment's image instead");
      }
      add("code", "ConfigMap", {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                {"metadata", Metadata(input, object + "-code", object)}, {"data", data}});
      volumes.push_back({{"name", "code"}, {"configMap", {{"name", object + "-code"}, {"items", items}}}});
      mounts.push_back({{"name", "code"}, {"mountPath", "/amlc/code"}});
    }
    volumes.push_back({{"name", "outputs"}, {"emptyDir", json::object()}});
    mounts.push_back({{"name", "outputs"}, {"mountPath", "/amlc/outputs"}});
    if (const Value* outputs = spec.Find("outputs"); outputs && outputs->is_map() && !outputs->entries().empty()) {
      result.notes.push_back("job '" + job.name + "': outputs are written to an emptyDir at /amlc/outputs, "
                             "which goes with the pod; mount a persistent volume there to keep them");
    }
    int64_t instances = std::max<int64_t>(1, IntAt(spec, "resources", "instance_count", 1));
    int64_t per_instance = std::max<int64_t>(1, IntAt(spec, "distribution", "process_count_per_instance", 1));
    const Value* distribution = spec.Find("distribution");
    std::string type = distribution && distribution->is_map() ? distribution->StringAt("type") : "";
    json env = json::array();
    std::string prelude = "mkdir -p /amlc/outputs/logs; ";
    if (const Value* outputs = spec.Find("outputs"); outputs && outputs->is_map()) {
      for (const auto& [name, output] : outputs->entries()) prelude += "mkdir -p /amlc/outputs/" + name + "; ";
    }
    if (const Value* variables = spec.Find("environment_variables"); variables && variables->is_map()) {
      for (const auto& [name, value] : variables->entries()) env.push_back(Env(name, Literal(value)));
    }
    env.push_back(Env("AMLC_OUTPUTS_DIR", "/amlc/outputs"));
    json job_spec = {{"backoffLimit", 0}};
    if (instances > 1) {
      job_spec["completionMode"] = "Indexed";
      job_spec["completions"] = instances;
      job_spec["parallelism"] = instances;
      env.push_back(IndexEnv("JOB_COMPLETION_INDEX"));
      if (type == "pytorch") {
        env.push_back(Env("MASTER_ADDR", object + "-0." + object));
        env.push_back(Env("MASTER_PORT", std::to_string(kMasterPort)));
      }
      prelude += DistributionPrelude(type, object, instances, per_instance);
      add("service", "Service",
          {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", Metadata(input, object, object)},
           {"spec", {{"clusterIP", "None"}, {"selector", {{"job-name", object}}}}}});
    }
    if (const Value* limits = spec.Find("limits"); limits && limits->is_map()) {
      if (const Value* timeout = limits->Find("timeout"); timeout && timeout->type() == Value::Type::kInt) {
        job_spec["activeDeadlineSeconds"] = timeout->as_int();
      }
    }
    json container = {{"name", "train"},
                      {"image", input.image},
                      {"workingDir", input.code_files.empty() ? "/amlc/outputs" : "/amlc/code"},
                      {"command", json::array({"/bin/sh", "-c", prelude + CommandOf(job, result.notes)})},
                      {"env", env},
                      {"volumeMounts", mounts}};
    json pod = {{"restartPolicy", "Never"}, {"containers", json::array({container})}, {"volumes", volumes}};
    if (instances > 1) pod["subdomain"] = object;
    job_spec["template"] = {{"metadata", {{"labels", Labels(job, object)}}}, {"spec", pod}};
    json metadata = Metadata(input, object, object);
    metadata["annotations"] = {{"amlc.ai/spec-digest", job.digest}};
    add("job", "Job", {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", metadata}, {"spec", job_spec}});
  }
  return Status::Ok();
}

}  // namespace amlc::runtime::deploy
