#ifndef AMLC_RUNTIME_ARTIFACTS_OCI_REGISTRY_CLIENT_H_
#define AMLC_RUNTIME_ARTIFACTS_OCI_REGISTRY_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/byte_progress.h"
#include "base/status.h"

namespace amlc::runtime::image {

/// "HOST[:PORT]/REPO[/...]:TAG" (or "@sha256:..."), optionally prefixed with
/// "http://" or "https://" to force the scheme.
struct RegistryReference {
  std::string scheme;      // "http" or "https"; "" = https, except plain http for loopback hosts
  std::string host;        // "127.0.0.1:5000"
  std::string repository;  // "team/iris"
  std::string tag;         // "1" (or a digest "sha256:...")
  std::string ToString() const;
};
StatusOr<RegistryReference> ParseRegistryReference(std::string_view text);

struct RegistryOptions {
  std::string username;      // basic auth, or the credentials sent to a bearer token realm
  std::string password;
  std::string ca_file;       // extra CA bundle for TLS (a self-signed registry)
  bool tls_verify = true;
  uint64_t chunk_size = 0;   // 0: monolithic uploads; else chunked PATCH uploads of this size
  /// Bytes of each blob upload (PushImage) or download (PullImage) as they
  /// move, throttled (ByteMeter): the first, about ten a second, and a final
  /// one per blob. May be empty.
  std::function<void(const ByteProgress&)> on_bytes;
};

struct PushResult {
  std::string manifest_digest;
  int blobs_uploaded = 0;
  int blobs_skipped = 0;  // the registry had them already (HEAD answered 200)
  uint64_t bytes_uploaded = 0;
};

/// Pushes the image `manifest_digest` of the OCI layout `layout_dir` to `to`
/// with the OCI distribution API: a HEAD per blob, uploads of the missing
/// ones (monolithic POST+PUT, or chunked PATCHes), then the manifest PUT.
/// Answers 401 with basic or bearer (token realm) challenges.
StatusOr<PushResult> PushImage(const std::string& layout_dir, const std::string& manifest_digest,
                               const RegistryReference& to, const RegistryOptions& options,
                               const std::function<void(const std::string&)>& progress);

/// Copies the image `from` (manifest, config, layers) into the OCI layout
/// `layout_dir` under `ref_name`; returns its manifest digest. For base images.
StatusOr<std::string> PullImage(const RegistryReference& from, const std::string& layout_dir,
                                const std::string& ref_name, const RegistryOptions& options);

}  // namespace amlc::runtime::image

#endif  // AMLC_RUNTIME_ARTIFACTS_OCI_REGISTRY_CLIENT_H_
