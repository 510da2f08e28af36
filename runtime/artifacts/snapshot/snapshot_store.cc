#include "runtime/artifacts/snapshot/snapshot_store.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>

#include "base/digest.h"
#include "runtime/artifacts/snapshot/blob_store.h"
#include "runtime/artifacts/snapshot/file_io.h"
#include "runtime/artifacts/snapshot/folder_walk.h"
#include "runtime/artifacts/snapshot/stat_cache.h"
#include "runtime/artifacts/snapshot/tree_file.h"
#include "runtime/artifacts/snapshot/zip_export.h"

// Implementation notes
//
// Layout under the root:
//   blobs/sha256/<2 hex>/<digest>     file contents, read-only, written once
//   trees/<tree digest>.json          a snapshot's file list (tree_file.h)
//   statcache/<sha256 of folder>.tsv  per-folder stat cache (stat_cache.h)
//
// Every file is created through a temporary file and a rename, so a crash or
// a concurrent Take leaves either the old state or the new one, never half a
// file; two processes storing the same blob both succeed. Blobs are written
// before the tree that lists them. Nothing is fsync'ed: a blob torn by a power
// loss has the wrong size and is rewritten by the next Take (BlobStore::Has),
// and Materialize/ExportZip verify every blob's digest as they copy it.
//
// The store keeps no mutable state between calls, so one SnapshotStore may
// serve several threads.

namespace amlc::runtime {

using snapshot::BlobStore;
using snapshot::WalkedFile;

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The folder's absolute path without symlinks: the stat cache's key, and
// what refusal messages name.
StatusOr<std::string> CanonicalFolder(const std::string& folder) {
  char resolved[PATH_MAX];
  if (realpath(folder.c_str(), resolved) == nullptr) {
    return snapshot::ErrnoStatus(errno, "cannot snapshot the folder", folder);
  }
  struct stat info;
  if (stat(resolved, &info) != 0) return snapshot::ErrnoStatus(errno, "cannot stat", resolved);
  if (!S_ISDIR(info.st_mode)) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot snapshot '" + folder + "': it is a file, not a folder");
  }
  return std::string(resolved);
}

std::optional<snapshot::FolderId> FolderIdOf(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return std::nullopt;
  return snapshot::FolderId{info.st_dev, info.st_ino};
}

// Makes `destination` an existing, empty folder. A non-empty one is refused:
// leftovers from another snapshot would make the run see files its snapshot
// (and so its run key) does not contain.
Status PrepareDestination(const std::string& destination) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::exists(destination, error)) {
    if (!fs::is_directory(destination, error) || !fs::is_empty(destination, error)) {
      return Status(StatusCode::kAlreadyExists,
                    "cannot materialize into '" + destination +
                        "': it exists and is not an empty folder; choose a new or empty folder");
    }
    return Status::Ok();
  }
  fs::create_directories(destination, error);
  if (error) return snapshot::ErrnoStatus(error.value(), "cannot create the folder", destination);
  return Status::Ok();
}

}  // namespace

struct SnapshotStore::Impl {
  explicit Impl(std::string root_path) : root(std::move(root_path)), blobs(root) {}

  StatusOr<Snapshot> Digest(const std::string& folder, bool store, const ByteSink& bytes) const;
  Status DigestFiles(const std::string& folder, const std::vector<WalkedFile>& walked, bool store,
                     const ByteSink& bytes, Snapshot* snapshot) const;
  Status WriteTree(const Snapshot& snapshot) const;
  Status MaterializeFile(const SnapshotFile& file, const std::string& destination) const;

  std::string TreePath(const std::string& tree_digest) const {
    return root + "/trees/" + tree_digest + ".json";
  }

  std::string root;
  BlobStore blobs;
};

StatusOr<Snapshot> SnapshotStore::Impl::Digest(const std::string& folder, bool store, const ByteSink& bytes) const {
  StatusOr<std::string> canonical = CanonicalFolder(folder);
  if (!canonical.ok()) return canonical.status();
  StatusOr<IgnoreRules> rules = snapshot::LoadIgnoreRules(*canonical);
  if (!rules.ok()) return rules.status();
  snapshot::WalkOptions options{std::move(*rules), FolderIdOf(root)};
  StatusOr<std::vector<WalkedFile>> walked = snapshot::WalkFolder(*canonical, options);
  if (!walked.ok()) return walked.status();
  Snapshot result;
  Status status = DigestFiles(*canonical, *walked, store, bytes, &result);
  if (!status.ok()) return status;
  result.tree_digest = snapshot::TreeDigest(result.files);
  if (store) {
    status = WriteTree(result);
    if (!status.ok()) return status;
  }
  return result;
}

// Fills snapshot->files from the walk, reading only what the stat cache
// cannot answer (and, for Take, what the store lacks).
Status SnapshotStore::Impl::DigestFiles(const std::string& folder,
                                        const std::vector<WalkedFile>& walked, bool store,
                                        const ByteSink& bytes, Snapshot* snapshot) const {
  uint64_t folder_bytes = 0;
  for (const WalkedFile& file : walked) folder_bytes += file.size;
  ByteReporter upload(bytes, "snapshot upload " + std::filesystem::path(folder).filename().string(), folder_bytes);
  snapshot::StatCache cache =
      snapshot::StatCache::Load(root + "/statcache/" + Sha256Hex(folder) + ".tsv", folder, NowNs());
  snapshot->files.reserve(walked.size());
  for (const WalkedFile& file : walked) {
    const std::string* cached = cache.Lookup(file);
    std::string digest;
    if (cached != nullptr && (!store || blobs.Has(*cached, file.size))) {
      digest = *cached;
    } else {
      StatusOr<snapshot::IngestResult> ingested =
          snapshot::IngestFile(folder + "/" + file.path, file, store ? &blobs : nullptr);
      if (!ingested.ok()) return ingested.status();
      ++snapshot->files_hashed;
      snapshot->blobs_written += ingested->blob_written ? 1 : 0;
      digest = std::move(ingested->digest);
    }
    cache.Record(file, digest);
    snapshot->total_bytes += file.size;
    upload.Add(file.size);
    snapshot->files.push_back(
        SnapshotFile{file.path, std::move(digest), file.size, file.executable});
  }
  upload.Finish();  // an empty folder, or files that grew since the walk
  // The cache only saves work: a store we cannot write to (read-only
  // planning) must not make the snapshot fail.
  cache.SaveIfChanged();
  return Status::Ok();
}

Status SnapshotStore::Impl::WriteTree(const Snapshot& snapshot) const {
  std::string path = TreePath(snapshot.tree_digest);
  struct stat info;
  if (stat(path.c_str(), &info) == 0) return Status::Ok();  // same digest, same listing
  std::string text = snapshot::TreeJson(snapshot);
  return snapshot::WriteFileAtomically(path, 0444,
                                       [&](int fd) { return snapshot::WriteAll(fd, text, path); });
}

Status SnapshotStore::Impl::MaterializeFile(const SnapshotFile& file,
                                            const std::string& destination) const {
  std::string path = destination + "/" + file.path;
  // O_EXCL|O_NOFOLLOW: the folder started empty, so anything already here
  // (or a symlink planted meanwhile) is refused rather than written through.
  snapshot::UniqueFd fd(
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return snapshot::ErrnoStatus(errno, "cannot create", path);
  Status status = blobs.Read(file.digest, file.size, [&](std::string_view chunk) {
    return snapshot::WriteAll(fd.get(), chunk, path);
  });
  if (!status.ok()) return status;
  // An explicit mode, not the umask's: executable bits are part of the tree.
  if (fchmod(fd.get(), file.executable ? 0755 : 0644) != 0) {
    return snapshot::ErrnoStatus(errno, "cannot chmod", path);
  }
  if (close(fd.Release()) != 0) return snapshot::ErrnoStatus(errno, "cannot write", path);
  return Status::Ok();
}

SnapshotStore::SnapshotStore(std::string root) : impl_(std::make_unique<Impl>(std::move(root))) {}

std::string SnapshotStore::BlobPath(const std::string& digest) const { return impl_->blobs.PathOf(digest); }

SnapshotStore::~SnapshotStore() = default;

StatusOr<Snapshot> SnapshotStore::Scan(const std::string& folder) {
  return impl_->Digest(folder, /*store=*/false, {});
}

StatusOr<Snapshot> SnapshotStore::Take(const std::string& folder, const ByteSink& bytes) {
  return impl_->Digest(folder, /*store=*/true, bytes);
}

StatusOr<Snapshot> SnapshotStore::Load(const std::string& tree_digest) {
  if (!snapshot::IsHexDigest(tree_digest)) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + tree_digest + "' is not a tree digest (64 lower-case hex characters)");
  }
  std::string path = impl_->TreePath(tree_digest);
  StatusOr<std::string> text = snapshot::ReadSmallFile(path);
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound) return text.status();
    return Status(StatusCode::kNotFound, "no snapshot with tree digest " + tree_digest +
                                             " in the store at '" + impl_->root + "'");
  }
  return snapshot::ParseTreeJson(*text, tree_digest, path);
}

Status SnapshotStore::Materialize(const std::string& tree_digest, const std::string& destination,
                                  const ByteSink& bytes) {
  StatusOr<Snapshot> loaded = Load(tree_digest);
  if (!loaded.ok()) return loaded.status();
  ByteReporter download(bytes, "snapshot download " + tree_digest.substr(0, 12), loaded->total_bytes);
  Status status = PrepareDestination(destination);
  if (!status.ok()) return status;
  std::filesystem::path last_parent;
  for (const SnapshotFile& file : loaded->files) {
    std::filesystem::path parent =
        std::filesystem::path(destination + "/" + file.path).parent_path();
    if (parent != last_parent) {  // paths are sorted: siblings share one mkdir
      std::error_code error;
      std::filesystem::create_directories(parent, error);
      if (error)
        return snapshot::ErrnoStatus(error.value(), "cannot create the folder", parent.string());
      last_parent = parent;
    }
    status = impl_->MaterializeFile(file, destination);
    if (!status.ok()) return status;
    download.Add(file.size);
  }
  download.Finish();
  return Status::Ok();
}

Status SnapshotStore::ExportZip(const std::string& tree_digest, const std::string& zip_path) {
  StatusOr<Snapshot> loaded = Load(tree_digest);
  if (!loaded.ok()) return loaded.status();
  return snapshot::WriteZip(*loaded, impl_->blobs, zip_path);
}

StatusOr<std::string> DigestFile(const std::string& path) {
  snapshot::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return snapshot::ErrnoStatus(errno, "cannot open", path);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return snapshot::ErrnoStatus(errno, "cannot stat", path);
  if (!S_ISREG(info.st_mode)) {
    return Status(StatusCode::kInvalidArgument, "cannot digest '" + path + "': not a regular file");
  }
  return snapshot::DigestFd(fd.get(), path, nullptr);
}

}  // namespace amlc::runtime
