// Implementation notes: an image is assembled from content the workspace
// already stores. Model files and the scoring code are read straight from the
// snapshot store's blobs (no copy), and every layer's cache key is the digest
// of what it holds, so rebuilding after a code-only change reads only the
// code. The image is built under a temporary ref name and renamed once the
// registry has given it its version: versions are assigned by the state
// store, never guessed.
#include "runtime/artifacts/registry/image_packaging.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/digest.h"
#include "runtime/workspace/python_module.h"
#include "runtime/artifacts/oci/oci_image.h"
#include "runtime/artifacts/oci/registry_client.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

// A base image named "oci:LAYOUT[:REF]" (a layout on disk).
bool IsLayoutReference(const std::string& base) { return base.rfind("oci:", 0) == 0; }

void SplitLayoutReference(const std::string& base, std::string& layout, std::string& ref) {
  std::string rest = base.substr(4);
  size_t colon = rest.find(':');
  layout = rest.substr(0, colon);
  ref = colon == std::string::npos ? "latest" : rest.substr(colon + 1);
}

image::LayerSpec SnapshotLayer(Workspace& workspace, const Snapshot& snapshot, const std::string& prefix,
                               const std::string& description, const std::string& cache_kind) {
  image::LayerSpec layer;
  layer.description = description;
  layer.cache_key = cache_kind + ":" + prefix + ":" + snapshot.tree_digest;
  for (const SnapshotFile& f : snapshot.files) {
    layer.files.push_back({prefix + "/" + f.path, workspace.snapshots().BlobPath(f.digest), f.executable});
  }
  return layer;
}

// A folder of generated files (the environment's description) kept while a
// build reads them.
class Staging {
 public:
  explicit Staging(const std::string& home) {
    static int counter = 0;
    folder_ = home + "/tmp/image-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    std::error_code error;
    fs::create_directories(folder_, error);
  }
  ~Staging() {
    std::error_code error;
    fs::remove_all(folder_, error);
  }
  StatusOr<std::string> Write(const std::string& name, const std::string& contents) {
    std::string path = folder_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << contents;
    if (!out.flush()) return Status(StatusCode::kUnavailable, "cannot write '" + path + "'");
    return path;
  }

 private:
  std::string folder_;
};

std::string Join(const std::map<std::string, std::string>& parts) {
  std::string text;
  for (const auto& [key, value] : parts) text += key + "=" + value + "\n";
  return text;
}

}  // namespace

image::RegistryOptions RegistryOptionsFromEnvironment() {
  image::RegistryOptions options;
  if (const char* user = std::getenv("AMLC_REGISTRY_USERNAME")) options.username = user;
  if (const char* password = std::getenv("AMLC_REGISTRY_PASSWORD")) options.password = password;
  if (const char* ca = std::getenv("AMLC_REGISTRY_CA_FILE")) options.ca_file = ca;
  return options;
}

std::string ImageLayoutDir(const Workspace& workspace) { return workspace.home() + "/images"; }

std::string ImageRefName(const std::string& name, int64_t version) {
  return name + ":" + std::to_string(version);
}

StatusOr<std::map<std::string, std::string>> ImageKeyParts(Workspace& workspace, const ImageInputs& inputs) {
  std::map<std::string, std::string> parts;
  parts["format"] = "amlc-image-1";
  parts["kind"] = inputs.kind;
  for (const ModelVersionRecord& model : inputs.models) {
    parts["model:" + model.name] = std::to_string(model.version) + "@" + model.content_digest;
  }
  auto code = workspace.snapshots().Scan(inputs.code_dir);
  if (!code.ok()) return code.status();
  bool has_script = false;
  for (const SnapshotFile& f : code->files) has_script |= f.path == inputs.scoring_script;
  if (!has_script) {
    return Status(StatusCode::kNotFound, "the scoring script '" + inputs.scoring_script + "' is not in '" +
                                             inputs.code_dir + "' (or an ignore file leaves it out)");
  }
  parts["code"] = code->tree_digest;
  parts["scoring_script"] = inputs.scoring_script;
  std::string environment = inputs.environment_json;
  for (const std::string& file : inputs.environment_files) {
    auto digest = DigestFile(file);
    if (!digest.ok()) return digest.status();
    environment += "\n" + fs::path(file).filename().string() + "=" + digest.value();
  }
  parts["environment"] = Sha256Hex(environment);
  auto python = workspace.snapshots().Scan(PythonModuleDir() + "/amlc");
  if (!python.ok()) return python.status();
  parts["amlc-python"] = python->tree_digest;
  if (IsLayoutReference(inputs.base_image)) {
    std::string layout, ref;
    SplitLayoutReference(inputs.base_image, layout, ref);
    auto digest = image::ResolveRef(layout, ref);
    if (!digest.ok()) return digest.status();
    parts["base"] = digest.value();
  } else if (!inputs.base_image.empty()) {
    parts["base"] = inputs.base_image;  // a registry reference, pulled when built
  }
  return parts;
}

std::string ImageBuildKey(const std::map<std::string, std::string>& parts) { return Sha256Hex(Join(parts)); }

namespace {

// Points `request` at the base image: a layout on disk is read in place; a
// registry reference is pulled into the image layout first, under a ref name
// derived from the reference.
Status PrepareBaseImage(const ImageInputs& inputs, image::BuildRequest& request, const ProgressSink& progress) {
  if (IsLayoutReference(inputs.base_image)) {
    SplitLayoutReference(inputs.base_image, request.base_layout, request.base_ref);
  } else if (!inputs.base_image.empty()) {
    auto from = image::ParseRegistryReference(inputs.base_image);
    if (!from.ok()) return from.status();
    request.base_layout = request.layout_dir;
    request.base_ref = "base-" + Sha256Hex(inputs.base_image).substr(0, 12);
    progress("pulling base image " + inputs.base_image);
    image::RegistryOptions options = RegistryOptionsFromEnvironment();
    options.on_bytes = progress.bytes();
    auto pulled = image::PullImage(from.value(), request.layout_dir, request.base_ref, options);
    if (!pulled.ok()) return pulled.status();
  }
  return Status::Ok();
}

// The environment's description and files; `staging` holds the generated
// description and must outlive the build.
StatusOr<image::LayerSpec> EnvironmentLayer(Staging& staging, const ImageInputs& inputs,
                                            const std::string& environment_digest) {
  image::LayerSpec environment;
  environment.description = "environment " + (inputs.environment_id.empty() ? "(inline)" : inputs.environment_id);
  environment.cache_key = "environment:" + environment_digest;
  auto description = staging.Write("environment.json", inputs.environment_json + "\n");
  if (!description.ok()) return description.status();
  environment.files.push_back({"var/amlc/environment/environment.json", description.value(), false});
  for (const std::string& file : inputs.environment_files) {
    environment.files.push_back({"var/amlc/environment/" + fs::path(file).filename().string(), file, false});
  }
  return environment;
}

// One layer per model version, then the amlc scoring host, then the scoring
// code, each read from the snapshot store and keyed by its tree digest.
Status AddContentLayers(Workspace& workspace, const ImageInputs& inputs, image::BuildRequest& request) {
  for (const ModelVersionRecord& model : inputs.models) {
    auto files = workspace.snapshots().Load(model.content_digest);
    if (!files.ok()) return files.status();
    std::string prefix = std::string(kImageModelsDir).substr(1) + "/" + model.name + "/" + std::to_string(model.version);
    request.layers.push_back(SnapshotLayer(workspace, files.value(), prefix,
                                           "model " + model.name + ":" + std::to_string(model.version), "model"));
  }
  auto python = workspace.snapshots().Take(PythonModuleDir() + "/amlc");
  if (!python.ok()) return python.status();
  request.layers.push_back(SnapshotLayer(workspace, python.value(), "var/amlc/python/amlc", "amlc scoring host", "python"));
  auto code = workspace.snapshots().Take(inputs.code_dir);
  if (!code.ok()) return code.status();
  request.layers.push_back(
      SnapshotLayer(workspace, code.value(), std::string(kImageAppDir).substr(1), "scoring code", "code"));
  return Status::Ok();
}

// How the image runs: the amlc scoring host on port 5001, serving the
// scoring script with the models' folder in AZUREML_MODEL_DIR.
image::ImageConfig ScoringConfig(const ImageInputs& inputs, const std::string& key) {
  image::ImageConfig config;
  // One model: AZUREML_MODEL_DIR is its folder (as in Azure ML); several: the parent of theirs.
  std::string model_dir = kImageModelsDir;
  if (inputs.models.size() == 1) {
    model_dir += "/" + inputs.models[0].name + "/" + std::to_string(inputs.models[0].version);
  }
  config.entrypoint = {"python3", "-m", "amlc.scoring"};
  config.env = {"PYTHONPATH=/var/amlc/python", "AZUREML_MODEL_DIR=" + model_dir,
                "AMLC_SCORING_SCRIPT=" + std::string(kImageAppDir) + "/" + inputs.scoring_script,
                "AMLC_PORT=5001"};
  config.working_dir = kImageAppDir;
  config.exposed_ports = {"5001/tcp"};
  config.labels = {{"org.opencontainers.image.title", inputs.name}, {"ai.amlc.build-key", key}};
  for (const ModelVersionRecord& model : inputs.models) {
    config.labels["ai.amlc.model." + model.name] = std::to_string(model.version);
  }
  return config;
}

ImageRecord RecordOf(const ImageInputs& inputs, const std::string& key, const std::string& layout_dir,
                     const image::BuildResult& built) {
  ImageRecord record;
  record.name = inputs.name;
  record.kind = inputs.kind;
  record.digest = built.manifest_digest;
  record.build_key = key;
  record.layout = layout_dir;
  record.base_image = inputs.base_image;
  record.environment = inputs.environment_id;
  record.tags = inputs.tags;
  for (const ModelVersionRecord& model : inputs.models) record.models.emplace_back(model.name, model.version);
  record.size_bytes = built.size;
  record.resource_id = inputs.resource_id;
  return record;
}

// Records the image built under the temporary `building_ref`, then renames
// it to its final ref name: the state store assigns the version.
StatusOr<ImageRecord> RecordAndRename(Workspace& workspace, const ImageRecord& record,
                                      const std::string& layout_dir, const std::string& building_ref) {
  auto recorded = workspace.state().RecordImage(record);
  if (!recorded.ok()) {
    image::RemoveImage(layout_dir, building_ref);
    return recorded.status();
  }
  // The version is known now: give the image its final ref name.
  if (Status status = image::TagImage(layout_dir, building_ref, ImageRefName(record.name, recorded->version));
      !status.ok()) {
    return status;
  }
  image::RemoveImage(layout_dir, building_ref);
  recorded->ref_name = ImageRefName(record.name, recorded->version);
  return recorded;
}

}  // namespace

StatusOr<ImageRecord> BuildAndRecordImage(Workspace& workspace, const ImageInputs& inputs,
                                          const ProgressSink& progress) {
  auto parts = ImageKeyParts(workspace, inputs);
  if (!parts.ok()) return parts.status();
  std::string key = ImageBuildKey(parts.value());
  image::BuildRequest request;
  request.layout_dir = ImageLayoutDir(workspace);
  request.ref_name = inputs.name + ":building-" + key.substr(0, 12);
  if (Status base = PrepareBaseImage(inputs, request, progress); !base.ok()) return base;

  Staging staging(workspace.home());
  auto environment = EnvironmentLayer(staging, inputs, parts->at("environment"));
  if (!environment.ok()) return environment.status();
  request.layers.push_back(environment.value());
  if (Status added = AddContentLayers(workspace, inputs, request); !added.ok()) return added;
  request.config = ScoringConfig(inputs, key);

  auto built = image::BuildImage(request, progress);
  if (!built.ok()) return built.status();
  return RecordAndRename(workspace, RecordOf(inputs, key, request.layout_dir, built.value()), request.layout_dir,
                         request.ref_name);
}

Status DeleteImageVersion(Workspace& workspace, const ImageRecord& image) {
  Status removed = image::RemoveImage(image.layout.empty() ? ImageLayoutDir(workspace) : image.layout,
                                      ImageRefName(image.name, image.version));
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
  return workspace.state().DeleteImage(image.name, image.version);
}

}  // namespace amlc::runtime
