#ifndef AMLC_RUNTIME_ARTIFACTS_REGISTRY_IMAGE_PACKAGING_H_
#define AMLC_RUNTIME_ARTIFACTS_REGISTRY_IMAGE_PACKAGING_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/progress_sink.h"
#include "base/status.h"
#include "runtime/artifacts/oci/registry_client.h"
#include "runtime/state/state_store.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// Everything an image packages, resolved: what `image` specs (and the CLI)
/// turn into an OCI image of the workspace's layout.
struct ImageInputs {
  std::string name;
  std::string kind = "docker";
  std::vector<ModelVersionRecord> models;
  std::string code_dir;         // the scoring code folder (absolute)
  std::string scoring_script;   // relative to code_dir
  std::string environment_id;   // "environment/sklearn-env:1", or "" for an inline one
  std::string environment_json; // the environment's spec, canonical JSON
  std::vector<std::string> environment_files;  // conda file, requirements (absolute paths)
  std::string base_image;       // "oci:LAYOUT[:REF]", a registry reference, or ""
  std::map<std::string, std::string> tags;
  std::string resource_id;
};

/// Where images live inside the image: models under var/amlc/models/NAME/VERSION,
/// the scoring code under var/amlc/app, amlc's Python package under var/amlc/python.
inline constexpr const char* kImageAppDir = "/var/amlc/app";
inline constexpr const char* kImageModelsDir = "/var/amlc/models";

/// The workspace's OCI image layout folder.
std::string ImageLayoutDir(const Workspace& workspace);
/// The ref name an image version has in that layout.
std::string ImageRefName(const std::string& name, int64_t version);

/// The build key's parts (models with their content digests, code tree,
/// scoring script, environment, base image, kind, amlc's Python package):
/// the same parts give the same image, so the key decides whether to build.
StatusOr<std::map<std::string, std::string>> ImageKeyParts(Workspace& workspace, const ImageInputs& inputs);
std::string ImageBuildKey(const std::map<std::string, std::string>& parts);

/// Builds the image into the workspace's layout (layers: environment, one
/// per model, amlc's Python package, the scoring code; each cached by its
/// content, so a code-only change reuses the model layers) and records it as
/// the next version of `inputs.name`. `progress` hears the layers' bytes too.
StatusOr<ImageRecord> BuildAndRecordImage(Workspace& workspace, const ImageInputs& inputs,
                                          const ProgressSink& progress);

/// Registry credentials from AMLC_REGISTRY_USERNAME / AMLC_REGISTRY_PASSWORD
/// and a CA bundle from AMLC_REGISTRY_CA_FILE.
image::RegistryOptions RegistryOptionsFromEnvironment();

/// Deletes an image version: its record and its entry in the layout (blobs
/// no other image uses go too).
Status DeleteImageVersion(Workspace& workspace, const ImageRecord& image);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_REGISTRY_IMAGE_PACKAGING_H_
