#ifndef AMLC_RUNTIME_ARTIFACTS_REGISTRY_MODEL_REGISTRY_H_
#define AMLC_RUNTIME_ARTIFACTS_REGISTRY_MODEL_REGISTRY_H_

#include <string>
#include <string_view>

#include "base/status.h"
#include "runtime/state/state_store.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// A model (or image) named by "NAME", "NAME:VERSION" or "NAME@latest",
/// optionally prefixed "azureml:".
struct VersionRef {
  std::string name;
  int64_t version = 0;  // 0: the latest
  std::string ToString() const;
};
/// kInvalidArgument with the accepted forms when `text` is none of them.
StatusOr<VersionRef> ParseVersionRef(std::string_view text, std::string_view what);

/// The version `ref` names: kNotFound, listing the versions there are, when absent.
StatusOr<ModelVersionRecord> ResolveModel(StateStore& state, const VersionRef& ref);

/// Stores the file or folder at `path` in the workspace's content-addressed
/// store (identical files once) and registers it as the next version of
/// `model.name`, with the metadata and lineage `model` carries.
StatusOr<ModelVersionRecord> RegisterModel(Workspace& workspace, ModelVersionRecord model,
                                           const std::string& path);

/// Writes the version's files under `destination` (created): the file itself
/// for a one-file model, else the folder's contents.
Status DownloadModel(Workspace& workspace, const ModelVersionRecord& model,
                     const std::string& destination);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_REGISTRY_MODEL_REGISTRY_H_
