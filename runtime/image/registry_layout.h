#ifndef AMLC_RUNTIME_IMAGE_REGISTRY_LAYOUT_H_
#define AMLC_RUNTIME_IMAGE_REGISTRY_LAYOUT_H_

// What the registry client needs of an OCI image layout folder: blob paths,
// small blobs read and written whole, and the index.json entry of a pulled
// image, updated under the layout's lock (shared with the image builder).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "compiler/support/status.h"
#include "runtime/snapshot/file_io.h"

namespace amlc::runtime::image::registry {

/// The layout's lock files, as the image builder (oci_layout.h) names them:
/// every writer of index.json holds the index lock (flock, exclusive) while it
/// reads, changes and replaces index.json; whoever writes or reads blobs holds
/// the GC lock shared, and removing an image (which deletes unreferenced
/// blobs) holds it exclusive.
inline constexpr char kIndexLockName[] = "amlc-index.lock";
inline constexpr char kGcLockName[] = "amlc-gc.lock";
inline constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";

/// A flock on a lock file of the layout folder, released when the object goes.
class LayoutFileLock {
 public:
  /// Blocks until the lock `name` in `layout_dir` is held (the folder is
  /// created when missing).
  Status Acquire(const std::string& layout_dir, const char* name, bool exclusive);

 private:
  snapshot::UniqueFd fd_;  // closing it releases the lock
};

/// "<layout>/blobs/sha256/<hex>" for "sha256:<hex>".
std::string LayoutBlobPath(const std::string& layout_dir, std::string_view digest);

/// The whole blob `digest` (at most `max_size` bytes), checked against its digest.
StatusOr<std::string> ReadLayoutBlob(const std::string& layout_dir, const std::string& digest,
                                     uint64_t max_size);

/// True when the blob exists as a regular file of `size` bytes.
bool HasLayoutBlob(const std::string& layout_dir, const std::string& digest, uint64_t size);

/// Stores `contents` as blob `digest` (temporary file + rename).
Status WriteLayoutBlob(const std::string& layout_dir, const std::string& digest,
                       std::string_view contents);

/// Stores blob `digest` with the bytes `produce` writes to the descriptor it
/// gets (a temporary file, renamed into place only when `produce` succeeds).
Status WriteLayoutBlobWith(const std::string& layout_dir, const std::string& digest,
                           const std::function<Status(int fd)>& produce);

/// Writes "<layout>/oci-layout" when missing.
Status EnsureOciLayoutFile(const std::string& layout_dir);

/// Adds to index.json (or replaces the entry with the same ref name) the
/// manifest `digest` of `size` bytes and `media_type` under `ref_name`,
/// keeping the entries sorted by ref name. Holds the index lock throughout.
Status SetIndexEntry(const std::string& layout_dir, const std::string& media_type,
                     const std::string& digest, uint64_t size, const std::string& ref_name);

}  // namespace amlc::runtime::image::registry

#endif  // AMLC_RUNTIME_IMAGE_REGISTRY_LAYOUT_H_
