// Implementation notes: on the local target an endpoint is an
// `amlc endpoint-host` process (its load-balancing front and the supervisor
// of its replicas) and a deployment is an entry of that host's desired state:
// the command that starts one replica (`amlc serve` over the image's unpacked
// files), its replica count, autoscale and a revision. A deployment is
// planned like an artifact: its key is the revision (the image digest and
// every setting the replicas start with), it is current when the host serves
// that revision on ready replicas, and anything else (a new image version, a
// host that died, replicas not ready) is a reason to act. The host rolls a
// new revision out and back itself; apply waits for its verdict.
#include <nlohmann/json.hpp>

#include <filesystem>

#include "base/digest.h"
#include "runtime/engine/drivers/drivers.h"
#include "runtime/deploy/deployment_settings.h"
#include "runtime/deploy/local_endpoints.h"
#include "runtime/artifacts/oci/oci_unpack.h"
#include "runtime/artifacts/registry/model_registry.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::Observation;
using nlohmann::json;

namespace {

int64_t IntOr(const Value* map, const char* field, int64_t fallback) {
  const Value* value = map ? map->Find(field) : nullptr;
  return value && value->type() == Value::Type::kInt ? value->as_int() : fallback;
}

double NumberOr(const Value* map, const char* field, double fallback) {
  const Value* value = map ? map->Find(field) : nullptr;
  if (value && value->type() == Value::Type::kInt) return static_cast<double>(value->as_int());
  if (value && value->type() == Value::Type::kDouble) return value->as_double();
  return fallback;
}

bool BoolOr(const Value* map, const char* field, bool fallback) {
  const Value* value = map ? map->Find(field) : nullptr;
  return value && value->type() == Value::Type::kBool ? value->as_bool() : fallback;
}

// The replicas' settings that are not the image: what a rollout compares.
json ServingSettings(const Value& spec) {
  const Value* request = spec.Find("request_settings");
  const Value* telemetry = spec.Find("telemetry");
  json settings;
  settings["workers"] = IntOr(&spec, "workers_per_replica", 1);
  settings["request_timeout_ms"] = IntOr(request, "request_timeout_ms", 5000);
  settings["max_queue_wait_ms"] = IntOr(request, "max_queue_wait_ms", 500);
  settings["max_body_bytes"] = IntOr(request, "max_body_bytes", 5242880);
  settings["telemetry"] = BoolOr(telemetry, "enabled", BoolOr(&spec, "app_insights_enabled", false));
  settings["sample_rate"] = NumberOr(telemetry, "sample_rate", 0.1);
  settings["env"] = json::object();
  if (const Value* variables = spec.Find("environment_variables"); variables && variables->is_map()) {
    for (const auto& [name, value] : variables->entries()) {
      settings["env"][name] = value.is_string() ? value.as_string() : value.ToJson();
    }
  }
  return settings;
}

// A revision as written to the host is "KEY@GENERATION"; the key is what plans compare.
std::string RevisionKey(const std::string& revision) { return revision.substr(0, revision.find('@')); }

// What every answer of a deployment names, so a client can trace it back
// (`amlc lineage`): the deployment, its image with its digest, the models in it.
std::vector<std::string> LineageHeaders(const std::string& endpoint, const std::string& deployment,
                                        const ImageRecord& image) {
  std::string models;
  for (const auto& [name, version] : image.models) {
    models += (models.empty() ? "" : ", ") + name + ":" + std::to_string(version);
  }
  std::vector<std::string> headers = {
      "x-amlc-deployment: " + endpoint + "/" + deployment,
      "x-amlc-image: " + image.name + ":" + std::to_string(image.version) + "@" + image.digest};
  if (!models.empty()) headers.push_back("x-amlc-models: " + models);
  return headers;
}

std::string HostUrl(const json& status) {
  return "http://" + status.value("host", std::string("127.0.0.1")) + ":" + std::to_string(status.value("port", 0));
}

}  // namespace

namespace {

// What the endpoint and deployment drivers share: where an endpoint's host
// lives and which traffic split it is given.
class LocalServing {
 public:
  explicit LocalServing(EngineContext& context) : context_(context) {}

 protected:
  std::string EndpointOf(const Resource& deployment);
  std::map<std::string, int> DeclaredTraffic(const std::string& endpoint, const endpoint::DesiredState& desired);

  EngineContext& context_;
};

// Endpoints on the local target: an `amlc endpoint-host` process.
class EndpointDriver : public Driver, LocalServing {
 public:
  using LocalServing::LocalServing;
  std::optional<std::string> Unsupported(const Resource& endpoint) override {
    if (!endpoint.spec.Find("compute")) return std::nullopt;
    return "endpoints on a Kubernetes compute target are rendered with `amlc render --target kubernetes`; "
           "no cluster is reachable from this machine";
  }
  /// Drift: the endpoint's host is not running.
  StatusOr<Observation> Observe(const Resource& endpoint, const std::map<std::string, std::string>&) override;
  StatusOr<std::string> Apply(const Action& action, const Resource& endpoint, const Progress& progress) override;
  /// Stops the endpoint's host.
  Status Delete(const Action& action, bool purge) override;
};

// Deployments on the local target: an entry of their endpoint host's desired state.
class DeploymentDriver : public Driver, LocalServing {
 public:
  using LocalServing::LocalServing;
  std::optional<std::string> Unsupported(const Resource& deployment) override {
    if (deployment.type != "iot_module") return std::nullopt;
    return "IoT modules are rendered with `amlc render --target iot-edge` for the device to pull";
  }
  StatusOr<Observation> Observe(const Resource& deployment, const std::map<std::string, std::string>&) override;
  StatusOr<std::string> Apply(const Action& action, const Resource& deployment, const Progress& progress) override;
  /// Takes the deployment (and its traffic share) out of its endpoint host.
  Status Delete(const Action& action, bool purge) override;

 private:
  /// The image a deployment runs: the one it names (latest version unless
  /// pinned), or one made of its model, code and environment, built first
  /// when `build` (else kNotFound while it is not built).
  StatusOr<ImageRecord> DeploymentImage(const Resource& deployment, bool build, const Progress& progress);
  /// Digest of the image and every setting the replicas start with.
  std::string DeploymentRevision(const Resource& deployment, const ImageRecord& image);
  /// True when the endpoint host already serves `entry` at `revision` on
  /// ready replicas (then `url` is its address): nothing to roll out.
  bool AlreadyServed(const Resource& deployment, const std::string& dir, const endpoint::DeploymentSpec& entry,
                     const std::string& revision, std::string& url);
  StatusOr<std::vector<std::string>> ReplicaCommand(const Resource& deployment, const std::string& endpoint,
                                                    const ImageRecord& image, const std::string& rootfs);
};

// The endpoint's traffic split as declared, over the deployments the host
// has been given so far (a split naming one that is not deployed yet would
// route to nothing; its share comes when it is).
std::map<std::string, int> LocalServing::DeclaredTraffic(const std::string& endpoint,
                                                    const endpoint::DesiredState& desired) {
  std::map<std::string, int> traffic;
  auto target = context_.graph().Find("endpoint/" + endpoint);
  const Value* declared = target ? context_.graph().resource(*target).spec.Find("traffic") : nullptr;
  if (!declared || !declared->is_map()) return traffic;
  for (const auto& [name, percent] : declared->entries()) {
    if (desired.deployments.count(name)) traffic[name] = static_cast<int>(IntOr(declared, name.c_str(), 0));
  }
  return traffic;
}

std::string LocalServing::EndpointOf(const Resource& deployment) {
  if (const Value* endpoint = deployment.spec.Find("endpoint_name"); endpoint && endpoint->is_ref()) {
    return NameOf(endpoint->as_ref().target);
  }
  if (std::string name = deployment.spec.StringAt("endpoint_name"); !name.empty()) return name;
  for (size_t i = 0; i < context_.graph().size(); ++i) {
    if (context_.graph().resource(i).kind == "endpoint") return context_.graph().resource(i).name;
  }
  return deployment.name;
}

StatusOr<ImageRecord> DeploymentDriver::DeploymentImage(const Resource& deployment, bool build,
                                                        const Progress& progress) {
  if (const Value* image = deployment.spec.Find("image"); image && (image->is_ref() || image->is_string())) {
    std::string target = image->is_ref() ? image->as_ref().target : image->as_string();
    if (target.rfind("image/", 0) == 0) target = target.substr(6);
    auto ref = ParseVersionRef(target, "image reference");
    if (!ref.ok()) return ref.status();
    auto found = ref->version ? context_.state().GetImage(ref->name, ref->version)
                              : context_.state().LatestImage(ref->name);
    if (!found.ok()) return found.status();
    if (!found.value()) return Status(StatusCode::kNotFound, "image " + ref->ToString() + " has no built version yet");
    return *found.value();
  }
  // No image: one is made of the deployment's model, code and environment.
  Resource implicit = deployment;
  implicit.kind = "image";
  implicit.name = deployment.name + "-image";
  if (const Value* model = deployment.spec.Find("model")) {
    Value models = Value::EmptyList();
    models.Append(*model);
    implicit.spec.Set("models", models);
  }
  auto inputs = ImageInputsOf(context_, implicit);
  if (!inputs.ok()) return inputs.status();
  inputs->resource_id = deployment.id();
  auto parts = ImageKeyParts(context_.workspace(), inputs.value());
  if (!parts.ok()) return parts.status();
  auto found = context_.state().FindImageByBuildKey(inputs->name, ImageBuildKey(parts.value()));
  if (!found.ok()) return found.status();
  if (found.value()) return *found.value();
  if (!build) return Status(StatusCode::kNotFound, "its image " + inputs->name + " is built first");
  return BuildAndRecordImage(context_.workspace(), inputs.value(), progress);
}

std::string DeploymentDriver::DeploymentRevision(const Resource& deployment, const ImageRecord& image) {
  return Sha256Hex(image.digest + "\n" + ServingSettings(deployment.spec).dump());
}

StatusOr<Observation> DeploymentDriver::Observe(const Resource& deployment, const std::map<std::string, std::string>&) {
  Observation seen;
  std::string dir = EndpointDir(context_.workspace(), EndpointOf(deployment));
  auto desired = endpoint::ReadDesiredState(DesiredStateFile(dir));
  if (!desired.ok() && desired.status().code() != StatusCode::kNotFound) {
    return Status(desired.status().code(), DesiredStateFile(dir) + ": " + desired.status().message());
  }
  const endpoint::DeploymentSpec* wanted = nullptr;
  if (desired.ok()) {
    auto found = desired->deployments.find(deployment.name);
    if (found != desired->deployments.end()) wanted = &found->second;
  }
  seen.exists = wanted != nullptr;
  auto image = DeploymentImage(deployment, false, [](const std::string&) {});
  if (!image.ok()) {
    if (image.status().code() != StatusCode::kNotFound) {
      return image.status();
    } else if (deployment.spec.Find("image")) {
      seen.held_back = image.status().message();
    } else {
      seen.reasons.push_back(image.status().message());
    }
    return seen;
  }
  std::string label = image->name + ":" + std::to_string(image->version);
  seen.key = DeploymentRevision(deployment, image.value());
  if (!seen.exists) {
    seen.reasons.push_back("not deployed yet; rolls out " + label);
    return seen;
  }
  if (!EndpointHostRunning(dir)) {
    seen.reasons.push_back("drift: the endpoint host of " + EndpointOf(deployment) + " is not running");
    return seen;
  }
  json status = ReadHostStatus(dir);
  json serving = status.contains("deployments") ? status["deployments"].value(deployment.name, json::object())
                                                : json::object();
  if (RevisionKey(wanted->revision) != seen.key) {
    seen.reasons.push_back("rolls out " + label + " (serving " + (wanted->image.empty() ? "?" : wanted->image) + ")");
    return seen;
  }
  if (serving.value("state", "") == "Failed") {
    seen.reasons.push_back("its last rollout failed: " + serving.value("message", std::string()));
    return seen;
  }
  int ready = 0, total = 0;
  for (const json& replica : serving.value("replicas", json::array())) {
    ++total;
    ready += replica.value("ready", false) && RevisionKey(replica.value("revision", "")) == seen.key;
  }
  if (RevisionKey(serving.value("revision", "")) != seen.key || ready == 0) {
    seen.reasons.push_back("drift: " + std::to_string(ready) + " of " + std::to_string(total) +
                           " replicas serve " + label);
    return seen;
  }
  seen.current = label + " on " + std::to_string(ready) + (ready == 1 ? " replica" : " replicas");
  return seen;
}

StatusOr<Observation> EndpointDriver::Observe(const Resource& endpoint, const std::map<std::string, std::string>&) {
  Observation seen;
  if (!EndpointHostRunning(EndpointDir(context_.workspace(), endpoint.name))) {
    seen.drift = "its endpoint host is not running";
  }
  return seen;
}

StatusOr<std::string> EndpointDriver::Apply(const Action& action, const Resource& endpoint, const Progress& progress) {
  std::string dir = EndpointDir(context_.workspace(), endpoint.name);
  auto generation = UpdateDesiredState(dir, [&](endpoint::DesiredState& desired) {
    desired.endpoint = endpoint.name;
    desired.host = "127.0.0.1";
    desired.port = static_cast<int>(IntOr(&endpoint.spec, "port", desired.port));
    desired.pin_header = endpoint.spec.StringAt("pin_header").empty() ? "azureml-model-deployment"
                                                                      : endpoint.spec.StringAt("pin_header");
    desired.traffic = DeclaredTraffic(endpoint.name, desired);
  });
  if (!generation.ok()) return generation.status();
  if (Status s = EnsureEndpointHost(dir); !s.ok()) return s;
  auto status = WaitForHost(dir, generation.value(), "", 30);
  if (!status.ok()) return status.status();
  std::string url = HostUrl(status.value());
  if (Status s = context_.RecordApplied(endpoint, json{{"url", url}}.dump()); !s.ok()) return s;
  return "listening at " + url;
}

// The command line of one replica: `amlc serve` over the unpacked image,
// with the interpreter its environment names, the deployment's request
// limits, its keys and its telemetry file.
StatusOr<std::vector<std::string>> DeploymentDriver::ReplicaCommand(const Resource& deployment,
                                                                   const std::string& endpoint,
                                                                   const ImageRecord& image,
                                                                   const std::string& rootfs) {
  std::string dir = EndpointDir(context_.workspace(), endpoint);
  auto config = image::ReadRuntimeConfig(image.layout, image.digest);
  if (!config.ok()) return config.status();
  auto environment_text = snapshot::ReadSmallFile(rootfs + "/var/amlc/environment/environment.json");
  json environment = json::parse(environment_text.ok() ? environment_text.value() : "{}", nullptr, false);
  std::string python = environment.is_object() ? environment.value("python", "") : "";
  json settings = ServingSettings(deployment.spec);
  std::vector<std::string> command = {
      "serve",
      "--entry-script", rootfs + config->env["AMLC_SCORING_SCRIPT"],
      "--model-dir", rootfs + config->env["AZUREML_MODEL_DIR"],
      "--python", python.empty() ? "/usr/bin/python3" : python,
      "--workers", std::to_string(settings["workers"].get<int64_t>()),
      "--request-timeout-ms", std::to_string(settings["request_timeout_ms"].get<int64_t>()),
      "--max-queue-wait-ms", std::to_string(settings["max_queue_wait_ms"].get<int64_t>()),
      "--max-body-bytes", std::to_string(settings["max_body_bytes"].get<int64_t>())};
  bool keyed = true;
  if (auto target = context_.graph().Find("endpoint/" + endpoint)) {
    std::string mode = context_.graph().resource(*target).spec.StringAt("auth_mode");
    keyed = mode.empty() || mode == "key";
  }
  if (keyed) {
    if (auto keys = EnsureDeploymentKeys(context_.workspace(), endpoint, deployment.name); !keys.ok()) {
      return keys.status();
    }
    command.insert(command.end(), {"--keys-file", KeysFile(context_.workspace(), endpoint, deployment.name)});
  }
  if (settings["telemetry"].get<bool>()) {
    std::error_code error;
    fs::create_directories(dir + "/telemetry", error);
    command.insert(command.end(), {"--telemetry-file", dir + "/telemetry/" + deployment.name + ".jsonl",
                                   "--telemetry-sample-rate", settings["sample_rate"].dump()});
  }
  for (auto& [name, value] : settings["env"].items()) {
    command.insert(command.end(), {"--env", name + "=" + value.get<std::string>()});
  }
  for (const std::string& header : LineageHeaders(endpoint, deployment.name, image)) {
    command.insert(command.end(), {"--answer-header", header});
  }
  command.insert(command.begin(), AmlcExecutable());
  return command;
}

StatusOr<std::string> DeploymentDriver::Apply(const Action& action, const Resource& deployment,
                                              const Progress& progress) {
  std::string endpoint = EndpointOf(deployment);
  std::string dir = EndpointDir(context_.workspace(), endpoint);
  auto image = DeploymentImage(deployment, true, progress);
  if (!image.ok()) return image.status();
  std::string label = image->name + ":" + std::to_string(image->version);
  std::string rootfs = dir + "/images/" + image->digest.substr(7) + "/rootfs";
  if (!fs::is_directory(rootfs)) {
    progress("unpacking " + label);
    std::error_code error;
    fs::create_directories(fs::path(rootfs).parent_path(), error);
    if (Status s = image::UnpackImage(image->layout, image->digest, rootfs); !s.ok()) {
      return s;
    }
  }
  auto command = ReplicaCommand(deployment, endpoint, image.value(), rootfs);
  if (!command.ok()) return command.status();
  std::string revision = DeploymentRevision(deployment, image.value());
  deploy::DeploymentSettings settings = deploy::DeploymentSettingsFromSpec(deployment.spec);
  for (const std::string& note : settings.notes) progress(note);
  endpoint::DeploymentSpec entry = ScaledDeploymentSpec(settings);
  entry.image = label;
  entry.command = command.value();
  std::string url_now;
  if (AlreadyServed(deployment, dir, entry, revision, url_now)) {
    // Planned because something upstream might change (a model register_when
    // then held back): the same image and settings are not rolled out again.
    json outputs{{"endpoint", endpoint}, {"image", label}, {"revision", revision}, {"scoring_uri", url_now + "/score"}};
    if (Status s = context_.RecordApplied(deployment, outputs.dump()); !s.ok()) return s;
    return "up to date after all: " + label + " serving at " + url_now + "/score";
  }
  auto generation = UpdateDesiredState(dir, [&](endpoint::DesiredState& desired) {
    // The generation in the revision makes every apply of it a rollout the
    // host carries out, also a retry of one that failed with the same key.
    entry.revision = revision + "@" + std::to_string(desired.generation + 1);
    desired.deployments[deployment.name] = entry;
    desired.traffic = DeclaredTraffic(endpoint, desired);
  });
  if (!generation.ok()) return generation.status();
  if (Status s = EnsureEndpointHost(dir); !s.ok()) return s;
  progress("rolling out " + label);
  double wait = std::max(120.0, settings.ReadinessTimeoutS() + 30);
  auto served = WaitForHost(dir, generation.value(), deployment.name, wait);
  if (!served.ok()) return served.status();
  if (served->value("state", "") != "Succeeded") {
    return Status(StatusCode::kFailedPrecondition, "rollout of " + label +
                                                       " failed; what served before keeps serving: " +
                                                       served->value("message", std::string("no reason given")));
  }
  std::string url = HostUrl(ReadHostStatus(dir));
  json outputs{{"endpoint", endpoint}, {"image", label}, {"revision", revision}, {"scoring_uri", url + "/score"}};
  if (Status s = context_.RecordApplied(deployment, outputs.dump()); !s.ok()) return s;
  // Replicas of the old revision may still be draining: only the new ones count.
  size_t replicas = 0;
  for (const json& replica : served->value("replicas", json::array())) {
    replicas += replica.value("ready", false) && RevisionKey(replica.value("revision", "")) == revision;
  }
  return "rolled out " + label + " on " + std::to_string(replicas) +
         (replicas == 1 ? " replica at " : " replicas at ") + url + "/score";
}

bool DeploymentDriver::AlreadyServed(const Resource& deployment, const std::string& dir,
                                     const endpoint::DeploymentSpec& entry, const std::string& revision,
                                     std::string& url) {
  auto desired = endpoint::ReadDesiredState(DesiredStateFile(dir));
  if (!desired.ok()) return false;
  auto found = desired->deployments.find(deployment.name);
  if (found == desired->deployments.end() || RevisionKey(found->second.revision) != revision) return false;
  endpoint::DeploymentSpec same = entry;  // all but the generation the host was given
  same.revision = found->second.revision;
  same.name = found->second.name;
  if (!(same == found->second)) return false;
  auto seen = Observe(deployment, {});
  if (!seen.ok() || seen->current.empty()) return false;
  url = HostUrl(ReadHostStatus(dir));
  return true;
}

Status EndpointDriver::Delete(const Action& action, bool purge) {
  return StopEndpointHost(EndpointDir(context_.workspace(), NameOf(action.resource_id)), 30);
}

Status DeploymentDriver::Delete(const Action& action, bool purge) {
  std::string name = NameOf(action.resource_id);
  std::string endpoint;
  if (auto record = context_.state().GetResource(action.resource_id); record.ok() && record.value()) {
    json outputs = json::parse(record.value()->outputs_json, nullptr, false);
    if (outputs.is_object()) endpoint = outputs.value("endpoint", "");
  }
  if (endpoint.empty()) return Status::Ok();  // not running
  std::string dir = EndpointDir(context_.workspace(), endpoint);
  auto generation = UpdateDesiredState(dir, [&](endpoint::DesiredState& desired) {
    desired.deployments.erase(name);
    desired.traffic = DeclaredTraffic(endpoint, desired);
  });
  if (!generation.ok()) return generation.status();
  if (EndpointHostRunning(dir)) {
    if (auto status = WaitForHost(dir, generation.value(), "", 60); !status.ok()) return status.status();
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Driver> MakeEndpointDriver(EngineContext& context) {
  return std::make_unique<EndpointDriver>(context);
}

std::unique_ptr<Driver> MakeDeploymentDriver(EngineContext& context) {
  return std::make_unique<DeploymentDriver>(context);
}

}  // namespace amlc::runtime
