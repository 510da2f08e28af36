#ifndef AMLC_RUNTIME_ARTIFACTS_OCI_OCI_LAYOUT_H_
#define AMLC_RUNTIME_ARTIFACTS_OCI_OCI_LAYOUT_H_

// Private to runtime/image: reading and writing an OCI image layout folder
// (oci-layout, index.json, blobs/sha256/<hex>), its locks and amlc's layer
// cache beside them.

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime::image {

inline constexpr char kOciLayoutFile[] = "oci-layout";
inline constexpr char kOciLayoutContents[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
inline constexpr char kIndexMediaType[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kManifestMediaType[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kConfigMediaType[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kLayerMediaType[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kDockerLayerMediaType[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr char kDockerManifestMediaType[] =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestListMediaType[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";
inline constexpr char kBaseDigestAnnotation[] = "org.opencontainers.image.base.digest";
/// amlc's own files in the layout folder (other OCI tools ignore them).
inline constexpr char kLayerCacheFile[] = "amlc-layer-cache.json";
inline constexpr char kIndexLockFile[] = "amlc-index.lock";
inline constexpr char kGcLockFile[] = "amlc-gc.lock";
/// Blobs are read-only: base layers are hard-linked between layouts, and a
/// stray write through one path must not change every image sharing them.
inline constexpr mode_t kBlobMode = 0444;

/// A content descriptor (media type, "sha256:<hex>", size).
struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
};

/// "sha256:<64 lower-case hex>".
bool IsSha256Digest(std::string_view digest);

/// Canonical JSON (sorted keys, no whitespace); kInvalidArgument when a
/// string in it is not UTF-8. `what` names the document in the message.
StatusOr<std::string> CanonicalJson(const nlohmann::json& value, const std::string& what);

/// Parses JSON text; kInvalidArgument naming `what` when it is malformed.
StatusOr<nlohmann::json> ParseJson(std::string_view text, const std::string& what);

/// Reads a descriptor object ({mediaType, digest, size}); kInvalidArgument
/// naming `what` when a field is missing or of the wrong type.
StatusOr<Descriptor> ParseDescriptor(const nlohmann::json& value, const std::string& what);
nlohmann::json DescriptorJson(const Descriptor& descriptor);

/// The entries of an image index ([] when it has none).
const nlohmann::json& IndexEntries(const nlohmann::json& index);
/// The ref name annotation of an index entry, or "" when it has none.
std::string RefNameOf(const nlohmann::json& entry);

/// An advisory lock (flock) on a lock file in the layout folder, released
/// when the object goes. Separate open file descriptions, so it excludes
/// threads of one process as well as other processes.
class LayoutLock {
 public:
  LayoutLock() = default;
  LayoutLock(LayoutLock&&) = default;
  LayoutLock& operator=(LayoutLock&&) = default;
  /// Blocks until the lock `name` in `dir` is held (shared or exclusive).
  static StatusOr<LayoutLock> Acquire(const std::string& dir, const char* name, bool exclusive);

 private:
  explicit LayoutLock(snapshot::UniqueFd fd) : fd_(std::move(fd)) {}
  snapshot::UniqueFd fd_;  // closing it releases the lock
};

/// What a layer cache entry says about a layer built before.
struct CachedLayer {
  std::string digest;
  std::string diff_id;
  uint64_t size = 0;
};
using LayerCache = std::map<std::string, CachedLayer>;  // cache_key -> layer

/// An OCI image layout folder.
class OciLayout {
 public:
  explicit OciLayout(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string PathOf(const char* name) const { return dir_ + "/" + name; }
  std::string BlobFolder() const { return dir_ + "/blobs/sha256"; }
  /// Where the blob with this "sha256:<hex>" digest lives (it may not exist).
  std::string BlobPath(const std::string& digest) const;

  /// Creates the folder, blobs/sha256 and the oci-layout file when missing;
  /// kFailedPrecondition when the folder holds another layout version or is
  /// not a folder.
  Status Create() const;
  /// kNotFound unless the folder is an OCI image layout (oci-layout and
  /// index.json); `role` ("base image layout") goes in the message.
  Status CheckExists(const std::string& role) const;

  /// True when the blob exists as a regular file of `size` bytes.
  bool HasBlob(const std::string& digest, uint64_t size) const;
  /// A small blob (manifest, config), checked against its digest;
  /// kFailedPrecondition when it has more than `max_size` bytes.
  StatusOr<std::string> ReadBlob(const std::string& digest,
                                 uint64_t max_size = std::numeric_limits<uint64_t>::max()) const;
  /// Stores `contents` under its digest unless the blob is already there.
  /// Returns true when it wrote it.
  StatusOr<bool> PutBlob(const std::string& digest, std::string_view contents) const;
  /// Receives the bytes of a blob being written, in order.
  using BlobWriter = std::function<Status(std::string_view bytes)>;
  /// Stores `blob` with the bytes `produce` hands to the writer it gets. They
  /// go to a temporary file, renamed into place only when `produce` succeeds
  /// and they match the blob's digest and size (else kFailedPrecondition,
  /// naming `source`, "registry.example.com" or "'<path>'", as their origin).
  /// An existing blob is replaced.
  Status WriteBlobWith(const Descriptor& blob, const std::string& source,
                       const std::function<Status(const BlobWriter& write)>& produce) const;
  /// Makes this layout hold the blob `digest` of `from` (another layout):
  /// a hard link when the file system allows, else a copy checked against
  /// the digest. Nothing happens when the blob is already here.
  Status ImportBlob(const OciLayout& from, const Descriptor& blob) const;

  /// index.json; an empty index when the file is missing.
  StatusOr<nlohmann::json> ReadIndex() const;
  /// Writes index.json atomically (canonical JSON, entries sorted by ref name).
  Status WriteIndex(nlohmann::json index) const;
  /// Makes the index.json entry named `ref_name` the manifest `manifest`
  /// (reads index.json, replaces the entry of that name or adds one, writes
  /// it back; an identical entry leaves the file as it is). `index_lock` is
  /// the index lock (kIndexLockFile, exclusive), which the caller holds for
  /// the read-modify-write and whatever else must go with it.
  Status SetIndexEntry(const LayoutLock& index_lock, const Descriptor& manifest,
                       const std::string& ref_name) const;
  /// Puts `entry` in `index`, in place of the entry with the same ref name.
  static void PutEntry(nlohmann::json* index, nlohmann::json entry);
  /// The index entry whose ref name annotation is `ref_name`, or nullptr.
  static const nlohmann::json* FindRef(const nlohmann::json& index, const std::string& ref_name);
  /// The ref names in the index, for messages.
  static std::string RefNames(const nlohmann::json& index);

  /// The layer cache; empty when missing or unreadable (it is only a cache).
  LayerCache ReadLayerCache() const;
  Status WriteLayerCache(const LayerCache& cache) const;

 private:
  std::string dir_;
};

/// "12.0 KB", "180.2 MB": sizes for progress lines (units of 1,000,000 bytes,
/// as `ls --si` and registries show them).
std::string FormatBytes(uint64_t bytes);

}  // namespace amlc::runtime::image

#endif  // AMLC_RUNTIME_ARTIFACTS_OCI_OCI_LAYOUT_H_
