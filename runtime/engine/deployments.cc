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
#include "runtime/engine/applier.h"
#include "runtime/deploy/local_endpoints.h"
#include "runtime/artifacts/oci/oci_unpack.h"
#include "runtime/artifacts/registry/model_registry.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using compiler::ir::Resource;
using compiler::ir::Value;
using compiler::planner::Action;
using compiler::planner::ArtifactObservation;
using nlohmann::json;

namespace {

std::string NameOf(const std::string& resource_id) {
  std::string name = resource_id.substr(resource_id.find('/') + 1);
  return name.substr(0, name.find(':'));
}

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

// Replica counts and autoscale: changed in place, never a rollout.
json ScaleSettings(const Value& spec) {
  const Value* autoscale = spec.Find("autoscale");
  const Value* scale = spec.Find("scale_settings");
  bool enabled = autoscale ? BoolOr(autoscale, "enabled", true)
                           : scale && scale->StringAt("type") == "target_utilization";
  int64_t min = autoscale ? IntOr(autoscale, "min", 1) : IntOr(scale, "min_instances", 1);
  int64_t max = autoscale ? IntOr(autoscale, "max", 3) : IntOr(scale, "max_instances", 3);
  int64_t count = IntOr(&spec, "instance_count", enabled ? min : 1);
  json out;
  out["instance_count"] = enabled ? std::clamp(count, min, max) : count;
  out["autoscale"] = {{"enabled", enabled},
                      {"min", min},
                      {"max", max},
                      {"target_in_flight", NumberOr(autoscale, "target_in_flight_per_worker", 1.0) *
                                               static_cast<double>(IntOr(&spec, "workers_per_replica", 1))},
                      {"scale_up_after_s", IntOr(autoscale, "scale_up_after", 10)},
                      {"scale_down_after_s", IntOr(autoscale, "scale_down_after", 60)},
                      {"polling_interval_s", NumberOr(autoscale, "polling_interval", NumberOr(scale, "polling_interval", 1))}};
  return out;
}

// A revision as written to the host is "KEY@GENERATION"; the key is what plans compare.
std::string RevisionKey(const std::string& revision) { return revision.substr(0, revision.find('@')); }

// How long new replicas may take to become ready: the readiness probe's
// initial delay plus its failures allowed, when the spec sets a probe; else 60 s.
int64_t ReadinessTimeout(const Value& spec) {
  const Value* probe = spec.Find("readiness_probe");
  if (!probe || !probe->is_map()) return 60;
  return IntOr(probe, "initial_delay", 10) + IntOr(probe, "period", 10) * IntOr(probe, "failure_threshold", 30);
}

std::string HostUrl(const json& status) {
  return "http://" + status.value("host", std::string("127.0.0.1")) + ":" + std::to_string(status.value("port", 0));
}

}  // namespace

// The endpoint's traffic split as declared, over the deployments the host
// has been given so far (a split naming one that is not deployed yet would
// route to nothing; its share comes when it is).
json Applier::DeclaredTraffic(const std::string& endpoint, const json& desired) {
  json traffic = json::object();
  auto target = graph_.Find("endpoint/" + endpoint);
  const Value* declared = target ? graph_.resource(*target).spec.Find("traffic") : nullptr;
  if (!declared || !declared->is_map() || !desired.contains("deployments")) return traffic;
  for (const auto& [name, percent] : declared->entries()) {
    if (desired["deployments"].contains(name)) traffic[name] = IntOr(declared, name.c_str(), 0);
  }
  return traffic;
}

std::string Applier::EndpointOf(const Resource& deployment) {
  if (const Value* endpoint = deployment.spec.Find("endpoint_name"); endpoint && endpoint->is_ref()) {
    return NameOf(endpoint->as_ref().target);
  }
  if (std::string name = deployment.spec.StringAt("endpoint_name"); !name.empty()) return name;
  for (size_t i = 0; i < graph_.size(); ++i) {
    if (graph_.resource(i).kind == "endpoint") return graph_.resource(i).name;
  }
  return deployment.name;
}

StatusOr<ImageRecord> Applier::DeploymentImage(const Resource& deployment, bool build,
                                               const std::function<void(const std::string&)>& progress) {
  if (const Value* image = deployment.spec.Find("image"); image && (image->is_ref() || image->is_string())) {
    std::string target = image->is_ref() ? image->as_ref().target : image->as_string();
    if (target.rfind("image/", 0) == 0) target = target.substr(6);
    auto ref = ParseVersionRef(target, "image reference");
    if (!ref.ok()) return ref.status();
    auto found = ref->version ? workspace_.state().GetImage(ref->name, ref->version)
                              : workspace_.state().LatestImage(ref->name);
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
  auto inputs = ImageInputsOf(implicit);
  if (!inputs.ok()) return inputs.status();
  inputs->resource_id = deployment.id();
  auto parts = ImageKeyParts(workspace_, inputs.value());
  if (!parts.ok()) return parts.status();
  auto found = workspace_.state().FindImageByBuildKey(inputs->name, ImageBuildKey(parts.value()));
  if (!found.ok()) return found.status();
  if (found.value()) return *found.value();
  if (!build) return Status(StatusCode::kNotFound, "its image " + inputs->name + " is built first");
  return BuildAndRecordImage(workspace_, inputs.value(), progress);
}

std::string Applier::DeploymentRevision(const Resource& deployment, const ImageRecord& image) {
  return Sha256Hex(image.digest + "\n" + ServingSettings(deployment.spec).dump());
}

ArtifactObservation Applier::ObserveDeployment(const Resource& deployment) {
  ArtifactObservation seen;
  std::string dir = EndpointDir(workspace_, EndpointOf(deployment));
  json desired = ReadDesiredState(dir);
  json wanted = desired.contains("deployments") ? desired["deployments"].value(deployment.name, json()) : json();
  seen.exists = !wanted.is_null();
  auto image = DeploymentImage(deployment, false, [](const std::string&) {});
  if (!image.ok()) {
    if (image.status().code() != StatusCode::kNotFound) {
      seen.status = image.status();
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
  if (RevisionKey(wanted.value("revision", "")) != seen.key) {
    seen.reasons.push_back("rolls out " + label + " (serving " + wanted.value("image", std::string("?")) + ")");
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

std::string Applier::Drift(const Resource& resource) {
  if (resource.kind != "endpoint") return "";
  std::string dir = EndpointDir(workspace_, resource.name);
  return EndpointHostRunning(dir) ? "" : "its endpoint host is not running";
}

ActionResult Applier::ApplyEndpoint(const Resource& endpoint) {
  std::string dir = EndpointDir(workspace_, endpoint.name);
  auto generation = UpdateDesiredState(dir, [&](json& desired) {
    desired["endpoint"] = endpoint.name;
    desired["host"] = "127.0.0.1";
    desired["port"] = IntOr(&endpoint.spec, "port", desired.value("port", int64_t{0}));
    desired["pin_header"] = endpoint.spec.StringAt("pin_header").empty() ? "azureml-model-deployment"
                                                                         : endpoint.spec.StringAt("pin_header");
    desired["traffic"] = DeclaredTraffic(endpoint.name, desired);
  });
  if (!generation.ok()) return {Outcome::kFailed, generation.status().message()};
  if (Status s = EnsureEndpointHost(dir); !s.ok()) return {Outcome::kFailed, s.message()};
  auto status = WaitForHost(dir, generation.value(), "", 30);
  if (!status.ok()) return {Outcome::kFailed, status.status().message()};
  std::string url = HostUrl(status.value());
  if (Status s = RecordApplied(endpoint, json{{"url", url}}.dump()); !s.ok()) return {Outcome::kFailed, s.message()};
  return {Outcome::kSucceeded, "listening at " + url};
}

// The command line of one replica: `amlc serve` over the unpacked image,
// with the interpreter its environment names, the deployment's request
// limits, its keys and its telemetry file.
StatusOr<std::vector<std::string>> Applier::ReplicaCommand(const Resource& deployment, const std::string& endpoint,
                                                          const ImageRecord& image, const std::string& rootfs) {
  std::string dir = EndpointDir(workspace_, endpoint);
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
  if (auto target = graph_.Find("endpoint/" + endpoint)) {
    std::string mode = graph_.resource(*target).spec.StringAt("auth_mode");
    keyed = mode.empty() || mode == "key";
  }
  if (keyed) {
    if (auto keys = EnsureDeploymentKeys(workspace_, endpoint, deployment.name); !keys.ok()) {
      return keys.status();
    }
    command.insert(command.end(), {"--keys-file", KeysFile(workspace_, endpoint, deployment.name)});
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
  command.insert(command.begin(), AmlcExecutable());
  return command;
}

ActionResult Applier::ApplyDeployment(const Resource& deployment,
                                      const std::function<void(const std::string&)>& progress) {
  std::string endpoint = EndpointOf(deployment);
  std::string dir = EndpointDir(workspace_, endpoint);
  auto image = DeploymentImage(deployment, true, progress);
  if (!image.ok()) return {Outcome::kFailed, image.status().message()};
  std::string label = image->name + ":" + std::to_string(image->version);
  std::string rootfs = dir + "/images/" + image->digest.substr(7) + "/rootfs";
  if (!fs::is_directory(rootfs)) {
    progress("unpacking " + label);
    std::error_code error;
    fs::create_directories(fs::path(rootfs).parent_path(), error);
    if (Status s = image::UnpackImage(image->layout, image->digest, rootfs); !s.ok()) {
      return {Outcome::kFailed, s.message()};
    }
  }
  auto command = ReplicaCommand(deployment, endpoint, image.value(), rootfs);
  if (!command.ok()) return {Outcome::kFailed, command.status().message()};
  std::string revision = DeploymentRevision(deployment, image.value());
  json scale = ScaleSettings(deployment.spec);
  auto generation = UpdateDesiredState(dir, [&](json& desired) {
    if (!desired.contains("endpoint")) desired["endpoint"] = endpoint;
    // The generation in the revision makes every apply of it a rollout the
    // host carries out, also a retry of one that failed with the same key.
    std::string attempt = revision + "@" + std::to_string(desired.value("generation", int64_t{0}) + 1);
    json entry = {{"revision", attempt}, {"image", label}, {"command", command.value()}, {"env", json::object()},
                  {"instance_count", scale["instance_count"]}, {"autoscale", scale["autoscale"]},
                  {"readiness_timeout_s", ReadinessTimeout(deployment.spec)}};
    desired["deployments"][deployment.name] = entry;
    desired["traffic"] = DeclaredTraffic(endpoint, desired);
  });
  if (!generation.ok()) return {Outcome::kFailed, generation.status().message()};
  if (Status s = EnsureEndpointHost(dir); !s.ok()) return {Outcome::kFailed, s.message()};
  progress("rolling out " + label);
  double wait = static_cast<double>(std::max<int64_t>(120, ReadinessTimeout(deployment.spec) + 30));
  auto served = WaitForHost(dir, generation.value(), deployment.name, wait);
  if (!served.ok()) return {Outcome::kFailed, served.status().message()};
  if (served->value("state", "") != "Succeeded") {
    return {Outcome::kFailed, "rollout of " + label + " failed; what served before keeps serving: " +
                                  served->value("message", std::string("no reason given"))};
  }
  std::string url = HostUrl(ReadHostStatus(dir));
  json outputs{{"endpoint", endpoint}, {"image", label}, {"revision", revision}, {"scoring_uri", url + "/score"}};
  if (Status s = RecordApplied(deployment, outputs.dump()); !s.ok()) return {Outcome::kFailed, s.message()};
  size_t replicas = served->value("replicas", json::array()).size();
  return {Outcome::kSucceeded, "rolled out " + label + " on " + std::to_string(replicas) +
                                   (replicas == 1 ? " replica at " : " replicas at ") + url + "/score"};
}

ActionResult Applier::DeleteService(const Action& action) {
  std::string name = NameOf(action.resource_id);
  if (action.kind == "endpoint") {
    Status stopped = StopEndpointHost(EndpointDir(workspace_, name), 30);
    if (!stopped.ok()) return {Outcome::kFailed, stopped.message()};
    return {Outcome::kSucceeded, "stopped"};
  }
  std::string endpoint;
  if (auto record = workspace_.state().GetResource(action.resource_id); record.ok() && record.value()) {
    json outputs = json::parse(record.value()->outputs_json, nullptr, false);
    if (outputs.is_object()) endpoint = outputs.value("endpoint", "");
  }
  if (endpoint.empty()) return {Outcome::kSucceeded, "not running"};
  std::string dir = EndpointDir(workspace_, endpoint);
  auto generation = UpdateDesiredState(dir, [&](json& desired) {
    if (desired.contains("deployments")) desired["deployments"].erase(name);
    desired["traffic"] = DeclaredTraffic(endpoint, desired);
  });
  if (!generation.ok()) return {Outcome::kFailed, generation.status().message()};
  if (EndpointHostRunning(dir)) {
    if (auto status = WaitForHost(dir, generation.value(), "", 60); !status.ok()) {
      return {Outcome::kFailed, status.status().message()};
    }
  }
  return {Outcome::kSucceeded, "stopped its replicas"};
}

}  // namespace amlc::runtime
