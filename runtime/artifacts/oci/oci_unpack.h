#ifndef AMLC_RUNTIME_ARTIFACTS_OCI_OCI_UNPACK_H_
#define AMLC_RUNTIME_ARTIFACTS_OCI_OCI_UNPACK_H_

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace amlc::runtime::image {

/// What a replica needs from an image's config to run it without a container.
struct RuntimeConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> env;
  std::string working_dir;
};

/// The runtime config of the image `manifest_digest` in the layout.
StatusOr<RuntimeConfig> ReadRuntimeConfig(const std::string& layout_dir, const std::string& manifest_digest);

/// Extracts the image's layers in order into `rootfs` (a folder that must
/// not exist yet; it appears whole or not at all: layers are extracted into a
/// sibling temporary folder that is renamed at the end). Entries that would
/// escape the folder (absolute paths, "..", links out) are refused.
Status UnpackImage(const std::string& layout_dir, const std::string& manifest_digest, const std::string& rootfs);

}  // namespace amlc::runtime::image

#endif  // AMLC_RUNTIME_ARTIFACTS_OCI_OCI_UNPACK_H_
