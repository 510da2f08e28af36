// Azure IoT Edge deployment manifests of IoT module deployments.
//
// The shape is Azure's deployment template (VS Code's and iotedgedev's
// deployment.template.json): modulesContent.$edgeAgent holds the runtime,
// the system modules and the modules; modulesContent.$edgeHub the routes.
// createOptions are JSON strings, as in a generated deployment.json. No
// secret is written: registry credentials are placeholders the template
// tools (or envsubst) fill in from the environment.
#include "runtime/deploy/iot_manifest.h"

#include <map>

#include <nlohmann/json.hpp>

namespace amlc::runtime::deploy {

namespace {

using json = nlohmann::ordered_json;
using compiler::ir::Resource;

std::string IotField(const Resource& deployment, const char* key) {
  const compiler::ir::Value* iot = deployment.spec.Find("iot");
  return iot && iot->is_map() ? iot->StringAt(key) : "";
}

// Docker's create options for the module: the scoring port, exposed and
// bound on the device.
std::string ModuleCreateOptions() {
  std::string port = std::to_string(kScoringPort) + "/tcp";
  json options = {{"ExposedPorts", {{port, json::object()}}},
                  {"HostConfig", {{"PortBindings", {{port, json::array({{{"HostPort", std::to_string(kScoringPort)}}})}}}}}};
  return options.dump();
}

std::string EdgeHubCreateOptions() {
  json bindings = json::object();
  for (const char* port : {"5671", "8883", "443"}) {
    bindings[std::string(port) + "/tcp"] = json::array({{{"HostPort", port}}});
  }
  return json{{"HostConfig", {{"PortBindings", bindings}}}}.dump();
}

json EdgeAgent(const IotModuleInput& input, const std::string& module) {
  json settings = {{"minDockerVersion", "v1.25"}, {"loggingOptions", ""}};
  if (!input.image.registry.empty()) {
    settings["registryCredentials"] = {{"amlc",
                                        {{"username", "$AMLC_REGISTRY_USERNAME"},
                                         {"password", "$AMLC_REGISTRY_PASSWORD"},
                                         {"address", input.image.registry}}}};
  }
  json env = json::object();
  for (const auto& [key, value] : ScoringEnvironment(*input.deployment)) env[key] = {{"value", value}};
  json system_modules = {
      {"edgeAgent", {{"type", "docker"}, {"settings", {{"image", kEdgeAgentImage}, {"createOptions", "{}"}}}}},
      {"edgeHub",
       {{"type", "docker"},
        {"status", "running"},
        {"restartPolicy", "always"},
        {"settings", {{"image", kEdgeHubImage}, {"createOptions", EdgeHubCreateOptions()}}}}}};
  json modules = {{module,
                   {{"version", "1.0"},
                    {"type", "docker"},
                    {"status", "running"},
                    {"restartPolicy", "always"},
                    {"settings", {{"image", input.image.reference}, {"createOptions", ModuleCreateOptions()}}},
                    {"env", env}}}};
  return {{"properties.desired",
           {{"schemaVersion", "1.1"},
            {"runtime", {{"type", "docker"}, {"settings", settings}}},
            {"systemModules", system_modules},
            {"modules", modules}}}};
}

json EdgeHub(const std::string& module) {
  return {{"properties.desired",
           {{"schemaVersion", "1.1"},
            {"routes", {{module + "ToIoTHub", "FROM /messages/modules/" + module + "/outputs/* INTO $upstream"}}},
            {"storeAndForwardConfiguration", {{"timeToLiveSecs", 7200}}}}}};
}

}  // namespace

std::string IotModuleName(const Resource& deployment) {
  std::string name = IotField(deployment, "module_name");
  return name.empty() ? deployment.name : name;
}

std::string IotDeviceId(const Resource& deployment) { return IotField(deployment, "device_id"); }

StatusOr<RenderResult> RenderIotEdge(const std::vector<IotModuleInput>& modules) {
  RenderResult result;
  std::map<std::string, std::vector<std::string>> by_device;
  std::string table;
  for (const IotModuleInput& input : modules) {
    const Resource& deployment = *input.deployment;
    std::string module = IotModuleName(deployment);
    std::string device = IotDeviceId(deployment);
    json manifest = {{"$schema-template", "4.0.0"},
                     {"modulesContent", {{"$edgeAgent", EdgeAgent(input, module)}, {"$edgeHub", EdgeHub(module)}}}};
    std::string path = deployment.name + "/deployment.json";
    result.files.push_back({path, manifest.dump(2) + "\n", "IoTEdgeDeployment", deployment.name, false});
    if (device.empty()) {
      result.notes.push_back("deployment '" + deployment.name +
                             "' names no iot.device_id; pass the device to 'az iot edge set-modules --device-id'");
    } else {
      by_device[device].push_back(deployment.name);
    }
    table += "| " + deployment.name + " | " + module + " | " + (device.empty() ? "-" : device) + " | " +
             input.image.name + ":" + std::to_string(input.image.version) + " `" + input.image.reference + "` | `" +
             path + "` |\n";
  }
  for (const auto& [device, names] : by_device) {
    if (names.size() < 2) continue;
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    result.notes.push_back("deployments " + list + " all target device '" + device +
                           "'; setting a device's modules replaces all of them, so apply one manifest per device");
  }
  std::string readme =
      "# IoT Edge deployment manifests rendered by amlc\n\n"
      "`amlc render --target iot-edge` wrote one Azure IoT Edge deployment manifest per IoT module\n"
      "deployment. Each is a template: fill in the registry credentials (only those: `$edgeAgent`,\n"
      "`$edgeHub` and `$upstream` must stay), then set the device's modules:\n\n"
      "    export AMLC_REGISTRY_USERNAME=... AMLC_REGISTRY_PASSWORD=...\n"
      "    envsubst '$AMLC_REGISTRY_USERNAME $AMLC_REGISTRY_PASSWORD' < NAME/deployment.json > /tmp/deployment.json\n"
      "    az iot edge set-modules --hub-name HUB --device-id DEVICE --content /tmp/deployment.json\n\n"
      "| Deployment | Module | Device | Image | Manifest |\n|---|---|---|---|---|\n" +
      table +
      "\nThe module's scoring host listens on port " + std::to_string(kScoringPort) +
      " of the device; images are pinned by digest.\n";
  result.files.push_back({"README.md", readme, "Notes", "", false});
  return result;
}

}  // namespace amlc::runtime::deploy
