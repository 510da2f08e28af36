// Kubernetes manifests of web service deployments, and the inputs every
// deploy renderer shares (the pinned image, the keys).
//
// Implementation notes:
// * Manifests are built as nlohmann::ordered_json (keys in the order
//   Kubernetes' own tools print them) and written as YAML by yaml-cpp's
//   emitter, so there is one place that decides quoting: a string YAML would
//   read as a number, a boolean or null ("5001", "true", "1e3") is quoted,
//   everything else is plain. Nothing depends on the clock, the process or
//   hash order, so the same inputs give the same bytes.
// * Kubernetes has no weighted split between Services without a mesh or a
//   Gateway; an endpoint's traffic is recorded as an annotation and the
//   README says how to carry it out.
#include "runtime/deploy/kubernetes_manifests.h"

#include "runtime/deploy/kubernetes_jobs.h"

#include <openssl/rand.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/artifacts/oci/registry_client.h"
#include "runtime/artifacts/snapshot/file_io.h"
#include "runtime/deploy/deployment_settings.h"

namespace amlc::runtime::deploy {

namespace {

using json = nlohmann::ordered_json;
using compiler::ir::Resource;
using compiler::ir::Value;

// ---------------------------------------------------------------------------
// YAML output.

bool NeedsQuotes(const std::string& text) {
  if (text.empty()) return true;
  char first = text[0];
  // Numbers (and anything that starts like one), indicators.
  if ((first >= '0' && first <= '9') || std::string_view("+-.:?!&*|>'\"%@`#,[]{}~ ").find(first) !=
                                            std::string_view::npos) {
    return true;
  }
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  // YAML 1.1 and 1.2 booleans and null.
  for (const char* keyword : {"true", "false", "yes", "no", "on", "off", "y", "n", "null"}) {
    if (lower == keyword) return true;
  }
  return text.find(": ") != std::string::npos || text.find(" #") != std::string::npos ||
         text.back() == ':' || text.back() == ' ' || text.find('\n') != std::string::npos;
}

std::string FormatDouble(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

void EmitString(YAML::Emitter& out, const std::string& text) {
  if (NeedsQuotes(text)) {
    out << YAML::DoubleQuoted << text;
  } else {
    out << text;
  }
}

void Emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      return;
    case json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const json& item : value) Emit(out, item);
      out << YAML::EndSeq;
      return;
    case json::value_t::string:
      EmitString(out, value.get<std::string>());
      return;
    case json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      return;
    case json::value_t::number_integer:
      out << std::to_string(value.get<int64_t>());
      return;
    case json::value_t::number_unsigned:
      out << std::to_string(value.get<uint64_t>());
      return;
    case json::value_t::number_float:
      out << FormatDouble(value.get<double>());
      return;
    default:
      out << YAML::Null;
      return;
  }
}

std::string ToYaml(const json& document) {
  YAML::Emitter out;
  out.SetIndent(2);
  Emit(out, document);
  return std::string(out.c_str()) + "\n";
}

// ---------------------------------------------------------------------------
// Spec values.

// A scalar as the text an environment variable holds.
std::string ScalarText(const Value& value) {
  switch (value.type()) {
    case Value::Type::kBool: return value.as_bool() ? "true" : "false";
    case Value::Type::kInt: return std::to_string(value.as_int());
    case Value::Type::kDouble: return FormatDouble(value.as_double());
    case Value::Type::kString: return value.as_string();
    case Value::Type::kRef: return value.as_ref().target;
    default: return value.ToJson();
  }
}

Status Invalid(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }
Status Precondition(std::string message) { return Status(StatusCode::kFailedPrecondition, std::move(message)); }

bool IsRegistryName(const std::string& name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// "HOST/REPO@DIGEST" of a push destination ("HOST/REPO:TAG"), or "" when it
// does not parse.
std::string PinnedReference(const std::string& to, const std::string& digest, std::string& registry) {
  auto reference = image::ParseRegistryReference(to);
  if (!reference.ok()) return "";
  registry = reference->host;
  return reference->host + "/" + reference->repository + "@" + digest;
}

std::string HexOf(const unsigned char* bytes, size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

std::string JsonToYaml(const std::string& document) {
  json parsed = json::parse(document, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? "" : ToYaml(parsed);
}

// ---------------------------------------------------------------------------
// Shared inputs.

StatusOr<PinnedImage> ResolveDeploymentImage(const Resource& deployment, StateStore* state,
                                             const std::string& workspace_home,
                                             const std::string& image_registry) {
  std::string what = "deployment '" + deployment.name + "'";
  const Value* image = deployment.spec.Find("image");
  if (!image || image->is_null()) {
    if (deployment.spec.Find("model")) {
      return Invalid(what + " gives a model but no image; rendering needs a built image: declare an image "
                            "spec that packages the model and its scoring code and set 'image: azureml:NAME@latest'");
    }
    return Invalid(what + " names no image; set 'image: azureml:NAME@latest'");
  }
  std::string target = image->is_ref() ? image->as_ref().target : ScalarText(*image);
  std::string rest = target.rfind("image/", 0) == 0 ? target.substr(6) : "";
  std::string name = rest;
  std::string version;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    name = rest.substr(0, at);  // any label reads as @latest, as analysis warned
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    name = rest.substr(0, colon);
    version = rest.substr(colon + 1);
  }
  bool numeric = std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!IsRegistryName(name) || !numeric || version.size() > 18) {
    return Invalid(what + ": '" + (rest.empty() ? target : rest) +
                   "' does not name an image of the workspace registry; write azureml:NAME:VERSION or "
                   "azureml:NAME@latest");
  }
  std::string label = version.empty() ? name : name + ":" + version;
  if (!state) {
    return Precondition("image '" + label + "' of " + what + " has not been built: there is no workspace at '" +
                        workspace_home + "' yet; build and push it first with 'amlc apply' (or pass --workspace)");
  }
  auto found = version.empty() ? state->LatestImage(name) : state->GetImage(name, std::stoll(version));
  if (!found.ok()) return found.status();
  if (!found.value()) {
    return Precondition("image '" + label + "' of " + what + " has no built version in the workspace at '" +
                        workspace_home + "'; build and push it first with 'amlc apply'");
  }
  const ImageRecord& record = *found.value();
  PinnedImage pinned;
  pinned.name = record.name;
  pinned.version = record.version;
  pinned.digest = record.digest;
  // The newest push of this very manifest wins.
  json pushed = json::parse(record.pushed_json, nullptr, /*allow_exceptions=*/false);
  if (pushed.is_array()) {
    for (auto it = pushed.rbegin(); it != pushed.rend() && pinned.reference.empty(); ++it) {
      if (!it->is_object() || it->value("digest", "") != record.digest) continue;
      pinned.reference = PinnedReference(it->value("to", ""), record.digest, pinned.registry);
      pinned.pushed = !pinned.reference.empty();
    }
  }
  std::string versioned = record.name + ":" + std::to_string(record.version);
  if (pinned.reference.empty() && !image_registry.empty()) {
    std::string to = image_registry + "/" + versioned;
    pinned.reference = PinnedReference(to, record.digest, pinned.registry);
    if (pinned.reference.empty()) {
      return Invalid("the workspace's image_registry gives '" + to + "' for image '" + versioned +
                     "', which is not a registry reference (HOST[:PORT]/REPO)");
    }
  }
  if (pinned.reference.empty()) {
    return Precondition("image '" + versioned + "' of " + what +
                        " was never pushed to a registry a cluster or device can pull from; push it first: "
                        "'amlc images push " + versioned + " --to HOST[:PORT]/REPO:TAG', or set image_registry "
                        "in the workspace spec (or push_to in the image spec) and run 'amlc apply'");
  }
  return pinned;
}

std::string DeploymentKeysPath(const std::string& workspace_home, const std::string& endpoint,
                               const std::string& deployment) {
  return workspace_home + "/endpoints/" + endpoint + "/keys/" + deployment + ".json";
}

StatusOr<std::optional<DeploymentKeys>> ReadDeploymentKeys(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<DeploymentKeys>();
  auto text = snapshot::ReadSmallFile(path);
  if (!text.ok()) return text.status();
  json keys = json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  auto key = [&](const char* plain, const char* camel) {
    if (!keys.is_object()) return std::string();
    for (const char* name : {plain, camel}) {
      if (keys.contains(name) && keys[name].is_string()) return keys[name].get<std::string>();
    }
    return std::string();
  };
  DeploymentKeys out{key("primary", "primaryKey"), key("secondary", "secondaryKey")};
  if (out.primary.empty() || out.secondary.empty()) {
    return Invalid("'" + path + "' is not a keys file: expected {\"primary\": \"...\", \"secondary\": \"...\"}");
  }
  return std::optional<DeploymentKeys>(out);
}

StatusOr<DeploymentKeys> GenerateDeploymentKeys() {
  unsigned char bytes[64];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Status(StatusCode::kInternal, "cannot generate keys: OpenSSL's RAND_bytes failed");
  }
  return DeploymentKeys{HexOf(bytes, 32), HexOf(bytes + 32, 32)};
}

std::string EndpointNameOf(const Resource& deployment) {
  const Value* endpoint = deployment.spec.Find("endpoint_name");
  if (!endpoint || endpoint->is_null()) return "";
  std::string name = endpoint->is_ref() ? endpoint->as_ref().target : ScalarText(*endpoint);
  return name.rfind("endpoint/", 0) == 0 ? name.substr(9) : name;
}

std::vector<std::pair<std::string, std::string>> ScoringEnvironment(const Resource& deployment) {
  std::map<std::string, std::string> values;
  if (const Value* variables = deployment.spec.Find("environment_variables"); variables && variables->is_map()) {
    for (const auto& [key, value] : variables->entries()) values[key] = ScalarText(value);
  }
  values["AMLC_PORT"] = std::to_string(kScoringPort);
  values["AMLC_WORKERS"] = std::to_string(deployment.spec.IntAt("workers_per_replica", 1));
  if (const Value* request = deployment.spec.Find("request_settings"); request && request->Find("max_body_bytes")) {
    values["AMLC_MAX_BODY_BYTES"] = std::to_string(request->IntAt("max_body_bytes", 5242880));
  }
  return {values.begin(), values.end()};
}

std::string KubernetesName(std::string_view text) {
  std::string name;
  for (char c : text) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') ? lower : '-';
  }
  auto trim = [](std::string& s) {
    while (!s.empty() && s.back() == '-') s.pop_back();
    s.erase(0, s.find_first_not_of('-') == std::string::npos ? s.size() : s.find_first_not_of('-'));
  };
  trim(name);
  if (name.empty()) name = "amlc";
  if (name.size() > 63) {
    snapshot::Sha256 hash;
    hash.Update(text.data(), text.size());
    name.resize(54);
    trim(name);
    name += "-" + hash.FinishHex().substr(0, 8);
  }
  return name;
}

// ---------------------------------------------------------------------------
// Manifests.

namespace {

// A label value: the name itself when Kubernetes takes it, else its
// Kubernetes name (amlc names may end in '.', '_' or be long).
std::string LabelValue(const std::string& name) {
  bool fits = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name.back()));
  return fits ? name : KubernetesName(name);
}

// A HorizontalPodAutoscaler's stabilization window is at most an hour.
constexpr double kMaxWindowS = 3600;

int64_t WindowSeconds(double seconds) { return std::llround(std::min(seconds, kMaxWindowS)); }

// The deployment's settings (runtime/deploy/deployment_settings.h, as the
// local target runs them), with what a cluster cannot honour as notes.
DeploymentSettings SettingsOf(const Value& spec, std::vector<std::string>& notes, const std::string& who) {
  DeploymentSettings settings = DeploymentSettingsFromSpec(spec);
  for (const std::string& note : settings.notes) notes.push_back(who + ": " + note);
  const AutoscaleSettings& autoscale = settings.autoscale;
  for (auto [field, seconds] : {std::pair{"scale_up_after", autoscale.scale_up_after_s},
                                std::pair{"scale_down_after", autoscale.scale_down_after_s}}) {
    if (autoscale.enabled && seconds > kMaxWindowS) {
      notes.push_back(who + ": a HorizontalPodAutoscaler's stabilization window is at most 3600 s; " + field +
                      " is rendered as 3600, not " + FormatDouble(seconds));
    }
  }
  return settings;
}

json Probe(const ProbeSettings& probe, const char* path, bool liveness) {
  return {{"httpGet", {{"path", path}, {"port", "http"}}},
          {"initialDelaySeconds", probe.initial_delay_s},
          {"periodSeconds", probe.period_s},
          {"timeoutSeconds", probe.timeout_s},
          // Kubernetes requires 1 for liveness probes.
          {"successThreshold", liveness ? 1 : probe.success_threshold},
          {"failureThreshold", probe.failure_threshold}};
}

struct Names {
  std::string object;    // "iris-blue"
  std::string endpoint;  // "iris" ("" when none)
  std::string secret;    // "iris-blue-keys"
};

json Labels(const WebServiceInput& service, const Names& names) {
  json labels = {{"app.kubernetes.io/name", names.object}, {"app.kubernetes.io/managed-by", "amlc"}};
  if (!names.endpoint.empty()) labels["amlc.ai/endpoint"] = LabelValue(names.endpoint);
  labels["amlc.ai/deployment"] = LabelValue(service.deployment->name);
  return labels;
}

json Metadata(const WebServiceInput& service, const Names& names, const std::string& name) {
  return {{"name", name}, {"labels", Labels(service, names)}};
}

json Environment(const WebServiceInput& service, bool with_keys) {
  json env = json::array();
  for (const auto& [key, value] : ScoringEnvironment(*service.deployment)) {
    if (with_keys && key == "AMLC_KEYS_FILE") continue;  // the Secret's wins
    env.push_back({{"name", key}, {"value", value}});
  }
  if (with_keys) env.push_back({{"name", "AMLC_KEYS_FILE"}, {"value", std::string(kKeysMountDir) + "/keys.json"}});
  return env;
}

json DeploymentManifest(const WebServiceInput& service, const Names& names, const DeploymentSettings& settings) {
  const Value& spec = service.deployment->spec;
  json container = {{"name", "scoring"},
                    {"image", service.image.reference},
                    {"ports", json::array({{{"name", "http"}, {"containerPort", kScoringPort}, {"protocol", "TCP"}}})},
                    {"env", Environment(service, service.keys.has_value())},
                    {"readinessProbe", Probe(settings.readiness_probe, "/health/ready", false)},
                    {"livenessProbe", Probe(settings.liveness_probe, "/", true)}};
  if (const Value* resources = spec.Find("resources"); resources && resources->is_map()) {
    container["resources"] = json::parse(resources->ToJson());
  }
  json pod_spec = {{"containers", json::array({container})}};
  if (service.keys) {
    // A mounted Secret follows its updates, and the scoring host re-reads
    // the file when it changes: a regenerated key needs no restart.
    pod_spec["containers"][0]["volumeMounts"] =
        json::array({{{"name", "keys"}, {"mountPath", kKeysMountDir}, {"readOnly", true}}});
    pod_spec["volumes"] = json::array(
        {{{"name", "keys"},
          {"secret", {{"secretName", names.secret}, {"items", json::array({{{"key", "keys.json"}, {"path", "keys.json"}}})}}}}});
  }
  json metadata = Metadata(service, names, names.object);
  metadata["annotations"] = {
      {"amlc.ai/image", service.image.name + ":" + std::to_string(service.image.version)},
      {"amlc.ai/spec-digest", service.deployment->digest}};
  json selector = {{"app.kubernetes.io/name", names.object}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata},
          {"spec",
           {{"replicas", settings.instance_count},
            {"selector", {{"matchLabels", selector}}},
            // Zero-downtime rollouts: a new replica is ready before an old one goes.
            {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}}},
            {"template",
             {{"metadata", {{"labels", Labels(service, names)}}},
              {"spec", pod_spec}}}}}};
}

// "blue=90,green=10" of a percent map; "" when empty.
std::string SplitText(const Value* split) {
  std::string text;
  if (!split || !split->is_map()) return text;
  for (const auto& [name, percent] : split->entries()) {
    text += (text.empty() ? "" : ",") + name + "=" + ScalarText(percent);
  }
  return text;
}

json ServiceManifest(const WebServiceInput& service, const Names& names) {
  json metadata = Metadata(service, names, names.object);
  if (service.endpoint) {
    json annotations = json::object();
    if (std::string traffic = SplitText(service.endpoint->spec.Find("traffic")); !traffic.empty()) {
      annotations["amlc.ai/traffic"] = traffic;
    }
    if (std::string mirror = SplitText(service.endpoint->spec.Find("mirror_traffic")); !mirror.empty()) {
      annotations["amlc.ai/mirror-traffic"] = mirror;
    }
    if (!annotations.empty()) metadata["annotations"] = annotations;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", {{"app.kubernetes.io/name", names.object}}},
            {"ports", json::array({{{"name", "http"}, {"port", 80}, {"targetPort", kScoringPort}, {"protocol", "TCP"}}})}}}};
}

json AutoscalerManifest(const WebServiceInput& service, const Names& names, const AutoscaleSettings& autoscale) {
  json metadata = Metadata(service, names, names.object);
  if (!autoscale.from_scale_settings) {
    // The spec's own target needs a custom metrics adapter; recorded for one.
    metadata["annotations"] = {
        {"amlc.ai/target-in-flight-per-worker", FormatDouble(autoscale.target_in_flight_per_worker)}};
  }
  json spec = {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", names.object}}},
               {"minReplicas", autoscale.min},
               {"maxReplicas", autoscale.max},
               {"metrics", json::array({{{"type", "Resource"},
                                         {"resource", {{"name", "cpu"},
                                                       {"target", {{"type", "Utilization"},
                                                                   {"averageUtilization", autoscale.target_cpu_percent}}}}}}})},
               // The windows the endpoint host waits too: sustained load adds, a quiet spell removes.
               {"behavior",
                {{"scaleUp", {{"stabilizationWindowSeconds", WindowSeconds(autoscale.scale_up_after_s)}}},
                 {"scaleDown", {{"stabilizationWindowSeconds", WindowSeconds(autoscale.scale_down_after_s)}}}}}};
  return {{"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"}, {"metadata", metadata}, {"spec", spec}};
}

json SecretManifest(const WebServiceInput& service, const Names& names) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", Metadata(service, names, names.secret)},
          {"type", "Opaque"},
          {"stringData",
           {{"primary-key", service.keys->primary},
            {"secondary-key", service.keys->secondary},
            {"keys.json", json{{"primary", service.keys->primary}, {"secondary", service.keys->secondary}}.dump()}}}};
}

bool HasCpuRequest(const Value& spec) {
  const Value* resources = spec.Find("resources");
  const Value* requests = resources ? resources->Find("requests") : nullptr;
  return requests && requests->Find("cpu");
}

std::string Readme(const std::vector<WebServiceInput>& services, const std::vector<Names>& names,
                   const std::vector<DeploymentSettings>& scaling, const std::vector<std::string>& splits,
                   bool secrets) {
  std::string text =
      "# Kubernetes manifests rendered by amlc\n\n"
      "`amlc render --target kubernetes` wrote these files from the specs; render them again when the\n"
      "specs or the images change. Apply them with `kubectl apply -k .` (kustomization.yaml lists them).\n\n"
      "| Deployment | Endpoint | Image | Replicas | Autoscale |\n|---|---|---|---|---|\n";
  for (size_t i = 0; i < services.size(); ++i) {
    const PinnedImage& image = services[i].image;
    const AutoscaleSettings& autoscale = scaling[i].autoscale;
    text += "| " + names[i].object + " | " + (names[i].endpoint.empty() ? "-" : names[i].endpoint) + " | " +
            image.name + ":" + std::to_string(image.version) + " `" + image.reference + "` | " +
            std::to_string(scaling[i].instance_count) + " | " +
            (autoscale.enabled ? std::to_string(autoscale.min) + "-" + std::to_string(autoscale.max) +
                                     " replicas at " + std::to_string(autoscale.target_cpu_percent) + "% cpu"
                               : "off") +
            " |\n";
  }
  text +=
      "\nEach Service listens on port 80 and forwards to the scoring host on port " + std::to_string(kScoringPort) +
      "\n(readiness: GET /health/ready, liveness: GET /). Images are pinned by digest.\n";
  if (std::any_of(scaling.begin(), scaling.end(), [](const DeploymentSettings& s) { return s.autoscale.enabled; })) {
    text +=
        "A HorizontalPodAutoscaler's cpu target needs `resources.requests.cpu` in the deployment spec;\n"
        "the spec's own target (in-flight requests per worker) is in its amlc.ai annotation, for a\n"
        "custom metrics adapter.\n";
  }
  if (!splits.empty()) {
    text +=
        "\n## Traffic splits\n\n"
        "Kubernetes Services have no weighted traffic split: each Service above reaches one deployment,\n"
        "and the endpoint's split is recorded in its `amlc.ai/traffic` annotation. Carry it out with a\n"
        "service mesh or a Gateway API HTTPRoute with weighted backendRefs:\n\n";
    for (const std::string& split : splits) text += "- " + split + "\n";
  }
  if (secrets) {
    text +=
        "\n## Keys\n\n"
        "The `*-secret.yaml` files hold the deployments' scoring keys, mounted into the replicas as\n"
        "$AMLC_KEYS_FILE; .gitignore keeps them out of git. Do not commit them.\n";
  }
  return text;
}

}  // namespace

StatusOr<RenderResult> RenderKubernetes(const std::vector<WebServiceInput>& services,
                                        const std::vector<TrainingJobInput>& jobs) {
  RenderResult result;
  std::vector<Names> names;
  std::vector<DeploymentSettings> scaling;
  std::map<std::string, std::string> taken;  // object name -> deployment
  std::vector<std::string> resources;
  std::vector<std::string> splits;
  std::set<std::string> split_endpoints;
  bool secrets = false;
  for (const WebServiceInput& service : services) {
    const Resource& deployment = *service.deployment;
    Names n;
    n.endpoint = EndpointNameOf(deployment);
    n.object = KubernetesName(n.endpoint.empty() ? deployment.name : n.endpoint + "-" + deployment.name);
    n.secret = n.object + "-keys";
    if (auto [it, fresh] = taken.emplace(n.object, deployment.name); !fresh) {
      return Invalid("deployments '" + it->second + "' and '" + deployment.name +
                     "' both become the Kubernetes name '" + n.object + "'; rename one of them");
    }
    std::string who = "deployment '" + deployment.name + "'";
    DeploymentSettings s = SettingsOf(deployment.spec, result.notes, who);
    if (s.autoscale.enabled && !HasCpuRequest(deployment.spec)) {
      result.notes.push_back(who + ": its autoscaler targets " + std::to_string(s.autoscale.target_cpu_percent) +
                             "% cpu, which needs resources.requests.cpu in the spec");
    }
    auto add = [&](const std::string& suffix, const std::string& kind, const json& manifest, bool secret) {
      RenderedFile file{n.object + "-" + suffix + ".yaml", ToYaml(manifest), kind, deployment.name, secret};
      resources.push_back(file.path);
      result.files.push_back(std::move(file));
    };
    add("deployment", "Deployment", DeploymentManifest(service, n, s), false);
    add("service", "Service", ServiceManifest(service, n), false);
    if (s.autoscale.enabled) {
      add("hpa", "HorizontalPodAutoscaler", AutoscalerManifest(service, n, s.autoscale), false);
    }
    if (service.keys) {
      add("secret", "Secret", SecretManifest(service, n), true);
      secrets = true;
    }
    const Value* traffic = service.endpoint ? service.endpoint->spec.Find("traffic") : nullptr;
    if (traffic && traffic->is_map() && traffic->entries().size() > 1 && split_endpoints.insert(n.endpoint).second) {
      splits.push_back("endpoint " + n.endpoint + ": " + SplitText(traffic));
      result.notes.push_back("endpoint '" + n.endpoint + "' splits traffic " + SplitText(traffic) +
                             "; Kubernetes Services cannot weigh it without a mesh or a Gateway "
                             "(recorded in the amlc.ai/traffic annotation, see README.md)");
    }
    names.push_back(n);
    scaling.push_back(s);
  }
  if (Status status = RenderTrainingJobs(jobs, result, resources); !status.ok()) return status;
  json kustomization = {{"apiVersion", "kustomize.config.k8s.io/v1beta1"},
                        {"kind", "Kustomization"},
                        {"resources", resources}};
  result.files.push_back({"kustomization.yaml", ToYaml(kustomization), "Kustomization", "", false});
  result.files.push_back({"README.md", Readme(services, names, scaling, splits, secrets), "Notes", "", false});
  if (secrets) result.files.push_back({".gitignore", "*-secret.yaml\n", "GitIgnore", "", false});
  return result;
}

}  // namespace amlc::runtime::deploy
