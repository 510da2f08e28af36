#ifndef AMLC_SERVER_SPEC_UPLOAD_H_
#define AMLC_SERVER_SPEC_UPLOAD_H_

// A spec folder sent to the server as a manifest (relative path -> SHA-256
// of its contents) whose contents are blobs of the workspace's snapshot
// store: a client asks which blobs the server lacks, uploads only those, and
// the server rebuilds the folder from the store to plan or apply it.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "runtime/workspace/workspace.h"

namespace amlc::server {

/// At most this many files in one manifest.
inline constexpr size_t kMaxManifestFiles = 20000;

/// Whether `digest` is a SHA-256 in lowercase hex.
bool IsSha256Hex(const std::string& digest);

/// The digests among `digests` the workspace's snapshot store lacks.
std::vector<std::string> MissingBlobs(runtime::Workspace& workspace, const std::vector<std::string>& digests);

/// Stores `contents` as a blob; kInvalidArgument when they do not hash to `digest`.
Status StoreBlob(runtime::Workspace& workspace, const std::string& digest, const std::string& contents);

/// Writes the manifest's files from the store into a folder of the workspace
/// (HOME/uploads/<digest of the manifest>, reused when it exists) and
/// returns it. kInvalidArgument for a manifest that is not an object of
/// relative paths (no "..", no absolute path) to digests;
/// kFailedPrecondition naming the blobs not uploaded yet.
StatusOr<std::string> MaterializeManifest(runtime::Workspace& workspace, const nlohmann::json& manifest);

}  // namespace amlc::server

#endif  // AMLC_SERVER_SPEC_UPLOAD_H_
