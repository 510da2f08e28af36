#ifndef AMLC_RUNTIME_ARTIFACTS_OCI_OCI_IMAGE_H_
#define AMLC_RUNTIME_ARTIFACTS_OCI_OCI_IMAGE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/progress_sink.h"
#include "base/status.h"

namespace amlc::runtime::image {

/// One regular file placed in a layer.
struct LayerFile {
  std::string image_path;   // path inside the image, relative, '/'-separated: "var/amlc/app/score.py"
  std::string source_path;  // the file on disk whose bytes it gets
  bool executable = false;  // mode 0755 instead of 0644
};

/// One layer to build: its files (parent folders are added by the builder,
/// mode 0755). `cache_key`, when not empty, names the layer's contents: a
/// layer built before with the same key is reused without reading a file.
struct LayerSpec {
  std::string description;  // "model iris:3", recorded as the layer's history entry
  std::vector<LayerFile> files;
  std::string cache_key;
};

/// The runtime configuration recorded in the image config.
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;       // "KEY=value"
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  // "5001/tcp"
};

struct BuildRequest {
  std::string layout_dir;  // OCI image layout to write into (created when missing; shared by images)
  std::string ref_name;    // org.opencontainers.image.ref.name of the result in index.json
  /// Optional base image: an OCI layout folder and the ref name in it; its
  /// layers go under the app layers and its config's env/entrypoint are kept
  /// unless `config` sets them.
  std::string base_layout;
  std::string base_ref;
  std::vector<LayerSpec> layers;
  ImageConfig config;
};

struct BuiltLayer {
  std::string digest;   // "sha256:<hex>" of the gzip'd tar blob
  std::string diff_id;  // "sha256:<hex>" of the uncompressed tar
  uint64_t size = 0;    // compressed bytes
  bool reused = false;  // taken from the layer cache or already in the layout
};

struct BuildResult {
  std::string manifest_digest;  // "sha256:<hex>"
  std::string config_digest;
  uint64_t size = 0;            // manifest + config + layers
  std::vector<BuiltLayer> layers;  // base layers first, then one per LayerSpec
};

/// Builds a reproducible OCI image into `request.layout_dir`: same inputs give
/// the same manifest digest, byte for byte (fixed timestamps, owners and file
/// order). Layers are tar archives gzip'd by libarchive. Replaces the index
/// entry with the same ref name. `progress` gets short status lines, and the
/// source bytes of each layer built (not of cached ones), from the threads
/// that build them.
StatusOr<BuildResult> BuildImage(const BuildRequest& request, const ProgressSink& progress);

/// Removes the index entry `ref_name` from the layout and deletes the blobs
/// no other entry references. kNotFound when there is no such entry.
Status RemoveImage(const std::string& layout_dir, const std::string& ref_name);

/// Adds the index entry `new_ref` for the image `existing_ref` names
/// (replacing an entry `new_ref` had). kNotFound when `existing_ref` is absent.
Status TagImage(const std::string& layout_dir, const std::string& existing_ref, const std::string& new_ref);

/// The manifest digest of `ref_name` in the layout (kNotFound when absent).
StatusOr<std::string> ResolveRef(const std::string& layout_dir, const std::string& ref_name);

}  // namespace amlc::runtime::image

#endif  // AMLC_RUNTIME_ARTIFACTS_OCI_OCI_IMAGE_H_
