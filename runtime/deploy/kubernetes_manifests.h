#ifndef AMLC_RUNTIME_DEPLOY_KUBERNETES_MANIFESTS_H_
#define AMLC_RUNTIME_DEPLOY_KUBERNETES_MANIFESTS_H_

// Deployments rendered for targets amlc does not run itself: Kubernetes
// manifests here, an Azure IoT Edge deployment manifest in iot_manifest.h.
// Both start from the same resolved inputs (the pinned image, the keys),
// declared here. Rendering is a pure function of its inputs: the same specs
// and registry records give the same bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/ir/graph.h"
#include "base/status.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime::deploy {

/// The port amlc's scoring host listens on inside an image ($AMLC_PORT).
inline constexpr int kScoringPort = 5001;
/// Where a replica finds its keys file (the Secret's keys.json, mounted).
inline constexpr const char* kKeysMountDir = "/var/amlc/keys";

/// One file a renderer produces, relative to the output folder.
struct RenderedFile {
  std::string path;        // "iris-blue-deployment.yaml", "edge/deployment.json"
  std::string contents;
  std::string kind;        // "Deployment", "Service", "Secret", "Kustomization", "IoTEdgeDeployment", ...
  std::string deployment;  // the deployment it belongs to; "" for shared files
  bool secret = false;     // holds keys: written readable by the owner only
};

/// What a renderer produced: the files and what the user should know.
struct RenderResult {
  std::vector<RenderedFile> files;
  std::vector<std::string> notes;
};

/// A deployment's image as a cluster or a device pulls it.
struct PinnedImage {
  std::string name;       // the image registry's name ("iris-image")
  int64_t version = 0;
  std::string digest;     // "sha256:<hex>"
  std::string reference;  // "HOST[:PORT]/REPO@sha256:<hex>": pinned by digest
  std::string registry;   // "HOST[:PORT]"
  bool pushed = false;    // false: the workspace registry it is meant to be pushed to
};

/// Resolves a deployment's `image` (a reference to "image/NAME",
/// "image/NAME:VERSION" or "image/NAME@latest") against the workspace's image
/// registry: the version (the newest for an unversioned reference), then the
/// registry reference it was pushed to, else `image_registry` (the workspace
/// spec's, may be "") + "/NAME". `state` is null when there is no workspace
/// yet. kFailedPrecondition, saying to build or push the image first, when
/// there is no such version or no registry a cluster could pull it from;
/// kInvalidArgument when the deployment names no image of the registry.
StatusOr<PinnedImage> ResolveDeploymentImage(const compiler::ir::Resource& deployment, StateStore* state,
                                             const std::string& workspace_home,
                                             const std::string& image_registry);

/// The keys that authenticate scoring requests (Authorization: Bearer KEY).
struct DeploymentKeys {
  std::string primary;
  std::string secondary;
};

/// Where a workspace keeps a deployment's keys, as the local target writes
/// them: HOME/endpoints/ENDPOINT/keys/DEPLOYMENT.json, {"primary": ...,
/// "secondary": ...} (the file $AMLC_KEYS_FILE names to the scoring host).
std::string DeploymentKeysPath(const std::string& workspace_home, const std::string& endpoint,
                               const std::string& deployment);
/// The keys in `path` (Azure's primaryKey/secondaryKey spellings are read
/// too); nullopt when the file does not exist; kInvalidArgument when it is
/// not such a JSON object.
StatusOr<std::optional<DeploymentKeys>> ReadDeploymentKeys(const std::string& path);
/// Two fresh keys of 32 random bytes each (OpenSSL RAND_bytes), as hex.
StatusOr<DeploymentKeys> GenerateDeploymentKeys();

/// One web service deployment to render. `endpoint` is null when the
/// deployment names an endpoint these specs do not declare (then only its
/// name is known, from `endpoint_name`).
struct WebServiceInput {
  const compiler::ir::Resource* deployment = nullptr;
  const compiler::ir::Resource* endpoint = nullptr;
  PinnedImage image;
  std::optional<DeploymentKeys> keys;  // a Secret is rendered only with keys
};

/// The name of the endpoint a deployment serves ("" when it names none).
std::string EndpointNameOf(const compiler::ir::Resource& deployment);

/// The scoring host's environment, sorted by name: the spec's
/// environment_variables (numbers and booleans as YAML wrote them), then
/// AMLC_PORT=5001, AMLC_WORKERS=workers_per_replica and, with
/// request_settings, AMLC_MAX_BODY_BYTES, which win over variables of the
/// same name.
std::vector<std::pair<std::string, std::string>> ScoringEnvironment(const compiler::ir::Resource& deployment);

/// `text` as a Kubernetes object name (an RFC 1123 label): lower case,
/// [a-z0-9-], at most 63 characters (longer names keep a hash suffix).
std::string KubernetesName(std::string_view text);

struct TrainingJobInput;  // kubernetes_jobs.h

/// Per deployment D of endpoint E: a Deployment "E-D" (pinned image, port
/// 5001, env, probes, resources, zero-downtime rolling updates), a ClusterIP
/// Service (80 -> 5001), a HorizontalPodAutoscaler (autoscaling/v2) when
/// autoscaling is on, a Secret "E-D-keys" when there are keys (primary-key,
/// secondary-key, and keys.json mounted for the scoring host); then a
/// kustomization.yaml listing them all (and the `jobs`' objects,
/// kubernetes_jobs.h) and a README.md. kInvalidArgument when two
/// deployments get the same Kubernetes name.
StatusOr<RenderResult> RenderKubernetes(const std::vector<WebServiceInput>& services,
                                        const std::vector<TrainingJobInput>& jobs);

/// `document` (JSON text) as a YAML document: maps and lists in block style,
/// keys in the JSON's order, strings quoted only where YAML would read them
/// as something else; "" when `document` is not JSON. Exposed for tests.
std::string JsonToYaml(const std::string& document);

}  // namespace amlc::runtime::deploy

#endif  // AMLC_RUNTIME_DEPLOY_KUBERNETES_MANIFESTS_H_
