#include "runtime/image/registry_layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/image/registry_http.h"
#include "runtime/snapshot/file_io.h"

namespace amlc::runtime::image::registry {
namespace {

using snapshot::ErrnoStatus;
using snapshot::UniqueFd;

// index.json and oci-layout are ordinary files; blobs are read-only, as the
// image builder keeps them (it hard-links base layers between layouts).
constexpr mode_t kLayoutFileMode = 0644;
constexpr mode_t kBlobMode = 0444;

std::string RefNameOf(const nlohmann::json& descriptor) {
  if (!descriptor.is_object() || !descriptor.contains("annotations")) return "";
  const nlohmann::json& annotations = descriptor["annotations"];
  if (!annotations.is_object() || !annotations.contains(kRefNameAnnotation) ||
      !annotations[kRefNameAnnotation].is_string()) {
    return "";
  }
  return annotations[kRefNameAnnotation].get<std::string>();
}

}  // namespace

Status LayoutFileLock::Acquire(const std::string& layout_dir, const char* name, bool exclusive) {
  std::error_code error;
  std::filesystem::create_directories(layout_dir, error);
  if (error) return ErrnoStatus(error.value(), "cannot create the OCI layout", layout_dir);
  std::string path = layout_dir + "/" + name;
  fd_ = UniqueFd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kLayoutFileMode));
  if (!fd_.valid()) return ErrnoStatus(errno, "cannot open the lock file", path);
  while (flock(fd_.get(), exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "cannot lock", path);
  }
  return Status::Ok();
}

std::string LayoutBlobPath(const std::string& layout_dir, std::string_view digest) {
  size_t colon = digest.find(':');
  return layout_dir + "/blobs/" + std::string(digest.substr(0, colon)) + "/" +
         std::string(digest.substr(colon + 1));
}

StatusOr<std::string> ReadLayoutBlob(const std::string& layout_dir, const std::string& digest,
                                     uint64_t max_size) {
  std::string path = LayoutBlobPath(layout_dir, digest);
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return Status(StatusCode::kNotFound, "the OCI layout '" + layout_dir + "' has no blob " +
                                               digest + " ('" + path + "')");
    }
    return ErrnoStatus(errno, "cannot stat", path);
  }
  if (static_cast<uint64_t>(info.st_size) > max_size) {
    return Status(StatusCode::kFailedPrecondition,
                  "blob '" + path + "' is " + HumanBytes(info.st_size) + ", more than the " +
                      HumanBytes(max_size) + " a manifest may have");
  }
  StatusOr<std::string> contents = snapshot::ReadSmallFile(path);
  if (!contents.ok()) return contents.status();
  snapshot::Sha256 hash;
  hash.Update(contents->data(), contents->size());
  if ("sha256:" + hash.FinishHex() != digest) {
    return Status(StatusCode::kFailedPrecondition, "blob '" + path +
                                                       "' of the OCI layout does not hash to " +
                                                       digest + " (the layout is damaged)");
  }
  return contents;
}

bool HasLayoutBlob(const std::string& layout_dir, const std::string& digest, uint64_t size) {
  struct stat info;
  std::string path = LayoutBlobPath(layout_dir, digest);
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         static_cast<uint64_t>(info.st_size) == size;
}

Status WriteLayoutBlob(const std::string& layout_dir, const std::string& digest,
                       std::string_view contents) {
  std::string path = LayoutBlobPath(layout_dir, digest);
  return snapshot::WriteFileAtomically(
      path, kBlobMode, [&](int fd) { return snapshot::WriteAll(fd, contents, path); });
}

Status WriteLayoutBlobWith(const std::string& layout_dir, const std::string& digest,
                           const std::function<Status(int fd)>& produce) {
  return snapshot::WriteFileAtomically(LayoutBlobPath(layout_dir, digest), kBlobMode, produce);
}

Status EnsureOciLayoutFile(const std::string& layout_dir) {
  std::string path = layout_dir + "/oci-layout";
  struct stat info;
  if (stat(path.c_str(), &info) == 0) return Status::Ok();
  return snapshot::WriteFileAtomically(path, kLayoutFileMode, [&](int fd) {
    return snapshot::WriteAll(fd, "{\"imageLayoutVersion\":\"1.0.0\"}", path);
  });
}

Status SetIndexEntry(const std::string& layout_dir, const std::string& media_type,
                     const std::string& digest, uint64_t size, const std::string& ref_name) {
  LayoutFileLock lock;
  Status locked = lock.Acquire(layout_dir, kIndexLockName, /*exclusive=*/true);
  if (!locked.ok()) return locked;

  std::string path = layout_dir + "/index.json";
  nlohmann::json index = nlohmann::json::object();
  struct stat info;
  if (stat(path.c_str(), &info) == 0) {
    StatusOr<std::string> text = snapshot::ReadSmallFile(path);
    if (!text.ok()) return text.status();
    index = nlohmann::json::parse(*text, nullptr, false);
    if (!index.is_object()) {
      return Status(StatusCode::kFailedPrecondition,
                    "'" + path + "' is not a JSON object; fix or remove it");
    }
  } else if (errno != ENOENT) {
    return ErrnoStatus(errno, "cannot stat", path);
  }
  if (!index.contains("schemaVersion")) index["schemaVersion"] = 2;
  if (!index.contains("mediaType")) index["mediaType"] = kOciIndex;
  nlohmann::json manifests = nlohmann::json::array();
  if (index.contains("manifests") && index["manifests"].is_array()) {
    for (const nlohmann::json& entry : index["manifests"]) {
      if (RefNameOf(entry) != ref_name) manifests.push_back(entry);
    }
  }
  manifests.push_back({{"mediaType", media_type},
                       {"digest", digest},
                       {"size", size},
                       {"annotations", {{kRefNameAnnotation, ref_name}}}});
  std::stable_sort(
      manifests.begin(), manifests.end(),
      [](const nlohmann::json& a, const nlohmann::json& b) { return RefNameOf(a) < RefNameOf(b); });
  index["manifests"] = std::move(manifests);
  std::string text = index.dump();
  return snapshot::WriteFileAtomically(path, kLayoutFileMode,
                                       [&](int fd) { return snapshot::WriteAll(fd, text, path); });
}

}  // namespace amlc::runtime::image::registry
