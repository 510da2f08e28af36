#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_TREE_FILE_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_TREE_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/snapshot/snapshot_store.h"

namespace amlc::runtime::snapshot {

/// The tree digest of a file list sorted by path: SHA-256 over one line
/// "<mode> <digest> <path>\n" per file, mode 755 or 644. A '\' or newline in a
/// path is escaped C-style ("\\", "\n") so that no two trees share a listing.
std::string TreeDigest(const std::vector<SnapshotFile>& files);

/// True for a lower-case hex SHA-256 (64 characters), the only shape of
/// digest that may become part of a store path.
bool IsHexDigest(std::string_view text);

/// True for a relative path that stays inside the folder it is relative to:
/// no leading '/', no empty, "." or ".." component, no NUL.
bool IsSafeRelativePath(std::string_view path);

/// The JSON text of trees/<tree digest>.json for `snapshot`.
std::string TreeJson(const Snapshot& snapshot);

/// Reads the JSON text of a tree file back, checking every field, that each
/// path is safe to write under a destination and that the listing still
/// hashes to `tree_digest`; kInternal naming `source` when it does not.
StatusOr<Snapshot> ParseTreeJson(std::string_view text, const std::string& tree_digest,
                                 const std::string& source);

}  // namespace amlc::runtime::snapshot

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_TREE_FILE_H_
