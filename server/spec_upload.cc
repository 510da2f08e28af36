#include "server/spec_upload.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "base/digest.h"
#include "runtime/artifacts/snapshot/blob_store.h"

namespace amlc::server {

namespace {

namespace fs = std::filesystem;

runtime::snapshot::BlobStore BlobsOf(runtime::Workspace& workspace) {
  return runtime::snapshot::BlobStore(workspace.datastore() + "/snapshots");
}

// A relative path that stays inside the folder: no "", ".", ".." segment,
// no leading '/', no backslash, no NUL.
bool IsInsidePath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

Status Invalid(const std::string& message) { return Status(StatusCode::kInvalidArgument, message); }

}  // namespace

bool IsSha256Hex(const std::string& digest) {
  return digest.size() == 64 && digest.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::vector<std::string> MissingBlobs(runtime::Workspace& workspace, const std::vector<std::string>& digests) {
  runtime::snapshot::BlobStore blobs = BlobsOf(workspace);
  std::vector<std::string> missing;
  std::error_code error;
  for (const std::string& digest : digests) {
    if (!fs::is_regular_file(blobs.PathOf(digest), error)) missing.push_back(digest);
  }
  return missing;
}

Status StoreBlob(runtime::Workspace& workspace, const std::string& digest, const std::string& contents) {
  if (!IsSha256Hex(digest)) return Invalid("'" + digest + "' is not a SHA-256 in lowercase hex");
  std::string actual = Sha256Hex(contents);
  if (actual != digest) return Invalid("the body hashes to " + actual + ", not " + digest);
  return BlobsOf(workspace).Put(digest, contents);
}

StatusOr<std::string> MaterializeManifest(runtime::Workspace& workspace, const nlohmann::json& manifest) {
  if (!manifest.is_object() || manifest.empty()) {
    return Invalid("\"manifest\" must be an object of the spec folder's files: {\"train.yaml\": \"<sha256>\", ...}");
  }
  if (manifest.size() > kMaxManifestFiles) {
    return Invalid("the manifest lists " + std::to_string(manifest.size()) + " files; at most " +
                   std::to_string(kMaxManifestFiles) + " are taken");
  }
  std::vector<std::string> digests;
  for (const auto& [path, digest] : manifest.items()) {
    if (!IsInsidePath(path)) return Invalid("manifest path '" + path + "' is not a relative path inside the folder");
    if (!digest.is_string() || !IsSha256Hex(digest.get<std::string>())) {
      return Invalid("manifest entry '" + path + "' is not a SHA-256 in lowercase hex");
    }
    digests.push_back(digest.get<std::string>());
  }
  std::vector<std::string> missing = MissingBlobs(workspace, digests);
  if (!missing.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  std::to_string(missing.size()) + " of the manifest's blobs are not uploaded (first: " + missing[0] +
                      "); ask POST /api/v1/blobs/missing and PUT each one first");
  }
  std::string folder = workspace.home() + "/uploads/" + Sha256Hex(manifest.dump()).substr(0, 32);
  std::error_code error;
  if (fs::is_directory(folder, error)) return folder;
  // Written beside and renamed into place, so a folder that exists is whole.
  static std::atomic<uint64_t> next_partial{0};
  std::string partial = folder + ".partial-" + std::to_string(getpid()) + "-" + std::to_string(next_partial++);
  runtime::snapshot::BlobStore blobs = BlobsOf(workspace);
  for (const auto& [path, digest] : manifest.items()) {
    fs::path target = fs::path(partial) / path;
    fs::create_directories(target.parent_path(), error);
    std::ofstream out(target, std::ios::binary);
    std::string blob = blobs.PathOf(digest.get<std::string>());
    Status copied = blobs.Read(digest.get<std::string>(), fs::file_size(blob, error), [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return out ? Status::Ok() : Status(StatusCode::kUnavailable, "cannot write " + target.string());
    });
    if (!copied.ok()) {
      fs::remove_all(partial, error);
      return copied;
    }
  }
  fs::rename(partial, folder, error);
  if (error && !fs::is_directory(folder)) {
    return Status(StatusCode::kUnavailable, "cannot put the uploaded specs in " + folder + ": " + error.message());
  }
  fs::remove_all(partial, error);  // another request put the same folder first
  return folder;
}

}  // namespace amlc::server
