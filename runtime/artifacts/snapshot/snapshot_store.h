#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_SNAPSHOT_STORE_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_SNAPSHOT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_progress.h"
#include "base/status.h"

namespace amlc::runtime {

/// One file of a snapshot.
struct SnapshotFile {
  std::string path;    // relative to the snapshotted folder, '/'-separated
  std::string digest;  // SHA-256 of the contents (hex)
  uint64_t size = 0;
  bool executable = false;
};

/// A code folder's snapshot: its files (sorted by path) and the digest of
/// the whole tree (a function of paths, contents and executable bits only,
/// never of timestamps), which is what run keys use.
struct Snapshot {
  std::string tree_digest;
  std::vector<SnapshotFile> files;
  uint64_t total_bytes = 0;
  int files_hashed = 0;   // files whose contents were read (not answered by the stat cache)
  int blobs_written = 0;  // contents new to the store
};

/// A content-addressed store of code snapshots under `root` (the workspace's
/// default datastore): blobs/sha256/<2 hex>/<digest> hold file contents once
/// however many snapshots share them; trees/<tree digest>.json list a
/// snapshot's files. A stat cache (path, size, mtime, inode -> digest) makes
/// re-snapshotting an unchanged folder cost stat calls, not reads.
///
/// Files matching the folder's .amlignore (or, when absent, .gitignore)
/// patterns are left out (gitignore syntax: globs, **, trailing / for
/// folders, leading / to anchor, ! to re-include; # comments). A symlink, or
/// any path that would resolve outside the folder, is refused with a
/// kInvalidArgument status naming every offending path.
class SnapshotStore {
 public:
  explicit SnapshotStore(std::string root);
  ~SnapshotStore();

  /// Digests the folder without storing anything (for planning).
  StatusOr<Snapshot> Scan(const std::string& folder);
  /// Digests the folder and stores what the store lacks; idempotent.
  /// `bytes` hears the upload, file by file ("snapshot upload NAME", the
  /// total being the folder's bytes; files the store has count at once).
  StatusOr<Snapshot> Take(const std::string& folder, const ByteSink& bytes = {});
  /// The stored snapshot with this tree digest (kNotFound if none).
  StatusOr<Snapshot> Load(const std::string& tree_digest);
  /// Writes the snapshot's files under `destination` (created), keeping
  /// executable bits. `bytes` hears the download, file by file
  /// ("snapshot download DIGEST12", the total being the snapshot's bytes).
  Status Materialize(const std::string& tree_digest, const std::string& destination,
                     const ByteSink& bytes = {});
  /// Where the stored contents with this digest live (read-only; for
  /// packing them elsewhere, e.g. into image layers, without a copy).
  std::string BlobPath(const std::string& digest) const;
  /// Writes the snapshot as a zip file (libarchive).
  Status ExportZip(const std::string& tree_digest, const std::string& zip_path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Digest of one file's contents (hex SHA-256), streaming; for input files.
StatusOr<std::string> DigestFile(const std::string& path);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_SNAPSHOT_STORE_H_
