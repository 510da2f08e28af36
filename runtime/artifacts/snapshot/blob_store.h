#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_BLOB_STORE_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_BLOB_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "runtime/artifacts/snapshot/folder_walk.h"

namespace amlc::runtime::snapshot {

/// The content-addressed half of the snapshot store: file contents under
/// <root>/blobs/sha256/<2 hex>/<digest>, written once, atomically, read-only.
class BlobStore {
 public:
  /// `root` is the snapshot store's root.
  explicit BlobStore(std::string root) : root_(std::move(root)) {}

  /// Where the blob with this digest lives (it may not exist).
  std::string PathOf(const std::string& digest) const;

  /// True when the blob exists with `size` bytes. A blob of another size
  /// (a file torn by a crash before it reached the disk) counts as absent,
  /// so the next Take rewrites it.
  bool Has(const std::string& digest, uint64_t size) const;

  /// Stores `contents` under `digest` (the caller hashed them).
  Status Put(const std::string& digest, std::string_view contents) const;

  /// Stores the contents of `fd` (read from its start) under `digest`,
  /// hashing them again on the way: kUnavailable, storing nothing, when they
  /// no longer hash to `digest` (the file changed after it was hashed).
  Status PutFromFd(const std::string& digest, int fd, const std::string& source_path) const;

  /// Streams the blob to `sink` in chunks of up to kBufferSize bytes and checks
  /// it still holds `size` bytes hashing to `digest`: kNotFound when missing,
  /// kInternal when damaged (the store was changed behind amlc's back).
  Status Read(const std::string& digest, uint64_t size,
              const std::function<Status(std::string_view chunk)>& sink) const;

 private:
  std::string root_;
};

/// What IngestFile found and did.
struct IngestResult {
  std::string digest;
  bool blob_written = false;  // the store lacked these contents
};

/// Hashes the regular file `path` (found by the walk as `expected`) and, when
/// `blobs` is given, makes sure the store holds its contents. Files of up to
/// kBufferSize bytes are read once for both. Fails with kUnavailable when the
/// file changed between the walk and the read (try again).
StatusOr<IngestResult> IngestFile(const std::string& path, const WalkedFile& expected,
                                  const BlobStore* blobs);

/// Hex SHA-256 of everything `fd` yields from its current position; `size`
/// receives the byte count when given.
StatusOr<std::string> DigestFd(int fd, const std::string& path, uint64_t* size);

}  // namespace amlc::runtime::snapshot

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_BLOB_STORE_H_
