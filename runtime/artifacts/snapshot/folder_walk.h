#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_FOLDER_WALK_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_FOLDER_WALK_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/snapshot/ignore_rules.h"

namespace amlc::runtime::snapshot {

/// A regular file found by WalkFolder, with the stat fields the stat cache
/// keys on.
struct WalkedFile {
  std::string path;  // relative to the folder, '/'-separated
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  bool executable = false;  // the owner's execute bit, as git records it
};

/// Identifies a folder on disk independently of the path used to reach it.
struct FolderId {
  dev_t device = 0;
  ino_t inode = 0;
};

/// What WalkFolder leaves out besides what `rules` ignores.
struct WalkOptions {
  /// Ignore rules of the folder (from .amlignore or .gitignore).
  IgnoreRules rules;
  /// A folder never to enter, e.g. the snapshot store itself when it lives
  /// inside the folder being snapshotted.
  std::optional<FolderId> skip_folder;
};

/// Lists the regular files under `root` (an absolute, symlink-free path of a
/// folder), sorted by path. Folders named .git or .amlc are always skipped;
/// ignored folders are not entered. Symlinks (wherever they point), special
/// files (fifos, sockets, devices) and names that are not UTF-8 make the walk
/// fail with kInvalidArgument naming every one of them, relative to `root`;
/// an unreadable folder fails with the errno's code.
StatusOr<std::vector<WalkedFile>> WalkFolder(const std::string& root, const WalkOptions& options);

/// Reads the ignore rules for `root`: its .amlignore, or its .gitignore when
/// there is no .amlignore, or none.
StatusOr<IgnoreRules> LoadIgnoreRules(const std::string& root);

}  // namespace amlc::runtime::snapshot

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_FOLDER_WALK_H_
