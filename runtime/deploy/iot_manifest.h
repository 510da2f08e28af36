#ifndef AMLC_RUNTIME_DEPLOY_IOT_MANIFEST_H_
#define AMLC_RUNTIME_DEPLOY_IOT_MANIFEST_H_

// IoT module deployments as Azure IoT Edge deployment manifests: what
// `az iot edge set-modules --content FILE` (after the registry credential
// placeholders are filled in) or `iotedgedev` take. amlc runs no device
// runtime; it only writes the manifest.

#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "base/status.h"
#include "runtime/deploy/kubernetes_manifests.h"

namespace amlc::runtime::deploy {

/// IoT Edge's system modules, as Azure's templates name them.
inline constexpr const char* kEdgeAgentImage = "mcr.microsoft.com/azureiotedge-agent:1.5";
inline constexpr const char* kEdgeHubImage = "mcr.microsoft.com/azureiotedge-hub:1.5";

/// One IoT module deployment to render.
struct IotModuleInput {
  const compiler::ir::Resource* deployment = nullptr;
  PinnedImage image;
};

/// The module's name on the device: iot.module_name, else the deployment's name.
std::string IotModuleName(const compiler::ir::Resource& deployment);
/// The IoT Edge device it targets (iot.device_id); "" when the spec names none.
std::string IotDeviceId(const compiler::ir::Resource& deployment);

/// Per deployment, NAME/deployment.json: a deployment manifest template
/// ($schema-template 4.0.0) whose $edgeAgent runs edgeAgent, edgeHub and the
/// module (the pinned image, port 5001 exposed and bound, the environment
/// variables and AMLC_WORKERS), with registry credentials as
/// $AMLC_REGISTRY_USERNAME / $AMLC_REGISTRY_PASSWORD placeholders, and whose
/// $edgeHub routes the module's outputs upstream; then a README.md. Pretty
/// printed, keys in Azure's order, the same bytes for the same inputs.
/// A note says when several deployments target one device: setting a
/// device's modules replaces all of them, so those manifests are
/// alternatives, not layers.
StatusOr<RenderResult> RenderIotEdge(const std::vector<IotModuleInput>& modules);

}  // namespace amlc::runtime::deploy

#endif  // AMLC_RUNTIME_DEPLOY_IOT_MANIFEST_H_
