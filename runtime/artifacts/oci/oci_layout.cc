#include "runtime/artifacts/oci/oci_layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace amlc::runtime::image {

using snapshot::ErrnoStatus;
using snapshot::UniqueFd;

std::string RefNameOf(const nlohmann::json& entry) {
  if (!entry.is_object()) return "";
  auto annotations = entry.find("annotations");
  if (annotations == entry.end() || !annotations->is_object()) return "";
  auto name = annotations->find(kRefNameAnnotation);
  if (name == annotations->end() || !name->is_string()) return "";
  return name->get<std::string>();
}

const nlohmann::json& IndexEntries(const nlohmann::json& index) {
  static const nlohmann::json kNone = nlohmann::json::array();
  auto manifests = index.find("manifests");
  return manifests != index.end() && manifests->is_array() ? *manifests : kNone;
}

namespace {

constexpr size_t kCopyBufferSize = 1 << 20;

// A name beside `path` that no other writer (thread or process) picks.
std::string TemporaryName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

bool IsSha256Digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  return std::all_of(digest.begin() + 7, digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

StatusOr<std::string> CanonicalJson(const nlohmann::json& value, const std::string& what) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& error) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot write " + what + ": " + error.what() +
                      " (every name, env entry, label and path must be UTF-8)");
  }
}

StatusOr<nlohmann::json> ParseJson(std::string_view text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    return Status(StatusCode::kInvalidArgument, what + " is not valid JSON: " + error.what());
  }
}

StatusOr<Descriptor> ParseDescriptor(const nlohmann::json& value, const std::string& what) {
  if (!value.is_object()) {
    return Status(StatusCode::kInvalidArgument, what + " is not a JSON object");
  }
  auto media_type = value.find("mediaType");
  auto digest = value.find("digest");
  auto size = value.find("size");
  if (media_type == value.end() || !media_type->is_string()) {
    return Status(StatusCode::kInvalidArgument, what + " has no string field 'mediaType'");
  }
  if (digest == value.end() || !digest->is_string() ||
      !IsSha256Digest(digest->get<std::string>())) {
    return Status(StatusCode::kInvalidArgument,
                  what + " has no 'digest' of the form sha256:<64 hex digits>");
  }
  if (size == value.end() || !size->is_number_unsigned()) {
    return Status(StatusCode::kInvalidArgument, what + " has no non-negative integer 'size'");
  }
  return Descriptor{media_type->get<std::string>(), digest->get<std::string>(),
                    size->get<uint64_t>()};
}

nlohmann::json DescriptorJson(const Descriptor& descriptor) {
  return {{"mediaType", descriptor.media_type},
          {"digest", descriptor.digest},
          {"size", descriptor.size}};
}

StatusOr<LayoutLock> LayoutLock::Acquire(const std::string& dir, const char* name, bool exclusive) {
  std::string path = dir + "/" + name;
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot open the lock file", path);
  while (flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "cannot lock", path);
  }
  return LayoutLock(std::move(fd));
}

std::string OciLayout::BlobPath(const std::string& digest) const {
  return BlobFolder() + "/" + digest.substr(7);
}

Status OciLayout::Create() const {
  std::error_code error;
  std::filesystem::create_directories(BlobFolder(), error);
  if (error) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot create the OCI image layout '" + dir_ + "': " + error.message());
  }
  std::string marker = PathOf(kOciLayoutFile);
  StatusOr<std::string> existing = snapshot::ReadSmallFile(marker);
  if (existing.ok()) {
    StatusOr<nlohmann::json> parsed = ParseJson(*existing, "'" + marker + "'");
    if (!parsed.ok()) return parsed.status();
    auto version = parsed->is_object() ? parsed->find("imageLayoutVersion") : parsed->end();
    if (version == parsed->end() || *version != "1.0.0") {
      return Status(StatusCode::kFailedPrecondition,
                    "'" + marker +
                        "' does not declare imageLayoutVersion 1.0.0; amlc writes "
                        "only that version of the OCI image layout");
    }
    return Status::Ok();
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  return snapshot::WriteFileAtomically(
      marker, 0644, [&](int fd) { return snapshot::WriteAll(fd, kOciLayoutContents, marker); });
}

Status OciLayout::CheckExists(const std::string& role) const {
  struct stat info;
  if (stat(dir_.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status(StatusCode::kNotFound, "the " + role + " '" + dir_ + "' does not exist");
    }
    return ErrnoStatus(errno, "cannot stat the " + role, dir_);
  }
  for (const char* name : {kOciLayoutFile, "index.json"}) {
    std::string path = PathOf(name);
    if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
      return Status(
          StatusCode::kNotFound,
          "the " + role + " '" + dir_ + "' is not an OCI image layout (it has no " + name + ")");
    }
  }
  return Status::Ok();
}

bool OciLayout::HasBlob(const std::string& digest, uint64_t size) const {
  struct stat info;
  return stat(BlobPath(digest).c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         static_cast<uint64_t>(info.st_size) == size;
}

StatusOr<std::string> OciLayout::ReadBlob(const std::string& digest, uint64_t max_size) const {
  std::string path = BlobPath(digest);
  struct stat info;
  if (stat(path.c_str(), &info) == 0 && static_cast<uint64_t>(info.st_size) > max_size) {
    return Status(StatusCode::kFailedPrecondition,
                  "blob '" + path + "' is " + FormatBytes(info.st_size) + ", more than the " +
                      FormatBytes(max_size) + " a manifest or config may have");
  }
  StatusOr<std::string> contents = snapshot::ReadSmallFile(path);
  if (!contents.ok()) {
    if (contents.status().code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound, "the OCI image layout '" + dir_ + "' lacks blob " +
                                               digest + " ('" + path + "')");
    }
    return contents.status();
  }
  snapshot::Sha256 hash;
  hash.Update(contents->data(), contents->size());
  if ("sha256:" + hash.FinishHex() != digest) {
    return Status(StatusCode::kInvalidArgument,
                  "blob '" + path + "' does not match its digest: the layout is damaged");
  }
  return contents;
}

StatusOr<bool> OciLayout::PutBlob(const std::string& digest, std::string_view contents) const {
  if (HasBlob(digest, contents.size())) return false;
  std::string path = BlobPath(digest);
  Status status = snapshot::WriteFileAtomically(
      path, kBlobMode, [&](int fd) { return snapshot::WriteAll(fd, contents, path); });
  if (!status.ok()) return status;
  return true;
}

Status OciLayout::WriteBlobWith(const Descriptor& blob, const std::string& source,
                                const std::function<Status(const BlobWriter&)>& produce) const {
  std::string path = BlobPath(blob.digest);
  return snapshot::WriteFileAtomically(path, kBlobMode, [&](int fd) -> Status {
    snapshot::Sha256 hash;
    uint64_t total = 0;
    Status produced = produce([&](std::string_view bytes) {
      hash.Update(bytes.data(), bytes.size());
      total += bytes.size();
      return snapshot::WriteAll(fd, bytes, path);
    });
    if (!produced.ok()) return produced;
    std::string got = "sha256:" + hash.FinishHex();
    if (got != blob.digest || total != blob.size) {
      return Status(StatusCode::kFailedPrecondition,
                    "blob " + blob.digest + " from " + source + " hashes to " + got +
                        (total == blob.size ? ""
                                            : " and has " + std::to_string(total) + " bytes, not " +
                                                  std::to_string(blob.size)));
    }
    return Status::Ok();
  });
}

Status OciLayout::ImportBlob(const OciLayout& from, const Descriptor& blob) const {
  if (HasBlob(blob.digest, blob.size)) return Status::Ok();
  std::string source = from.BlobPath(blob.digest);
  if (!from.HasBlob(blob.digest, blob.size)) {
    return Status(StatusCode::kNotFound, "the OCI image layout '" + from.dir() + "' lacks blob " +
                                             blob.digest + " of " + std::to_string(blob.size) +
                                             " bytes ('" + source + "')");
  }
  std::string target = BlobPath(blob.digest);
  std::string temporary = TemporaryName(target);
  if (link(source.c_str(), temporary.c_str()) == 0) {
    if (rename(temporary.c_str(), target.c_str()) == 0) return Status::Ok();
    int error = errno;
    unlink(temporary.c_str());
    return ErrnoStatus(error, "cannot rename into place", target);
  }
  if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP && errno != EACCES) {
    return ErrnoStatus(errno, "cannot link '" + source + "' to", temporary);
  }
  // No hard link across file systems: a copy, checked against the digest.
  UniqueFd in(open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return ErrnoStatus(errno, "cannot open", source);
  return WriteBlobWith(blob, "'" + source + "'", [&](const BlobWriter& write) -> Status {
    std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(kCopyBufferSize);
    for (;;) {
      StatusOr<size_t> n = snapshot::ReadFull(in.get(), buffer.get(), kCopyBufferSize, source);
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::Ok();
      Status written = write(std::string_view(buffer.get(), *n));
      if (!written.ok()) return written;
    }
  });
}

StatusOr<nlohmann::json> OciLayout::ReadIndex() const {
  std::string path = PathOf("index.json");
  StatusOr<std::string> text = snapshot::ReadSmallFile(path);
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound) return text.status();
    return nlohmann::json{{"schemaVersion", 2},
                          {"mediaType", kIndexMediaType},
                          {"manifests", nlohmann::json::array()}};
  }
  StatusOr<nlohmann::json> index = ParseJson(*text, "the image index '" + path + "'");
  if (!index.ok()) return index.status();
  if (!index->is_object()) {
    return Status(StatusCode::kInvalidArgument,
                  "the image index '" + path + "' is not a JSON object");
  }
  auto manifests = index->find("manifests");
  if (manifests == index->end()) {
    (*index)["manifests"] = nlohmann::json::array();
  } else if (!manifests->is_array()) {
    return Status(StatusCode::kInvalidArgument,
                  "the image index '" + path + "' has a 'manifests' field that is not an array");
  }
  return index;
}

Status OciLayout::WriteIndex(nlohmann::json index) const {
  nlohmann::json& manifests = index["manifests"];
  std::vector<nlohmann::json> entries(manifests.begin(), manifests.end());
  // Entries without a ref name (written by other tools) go last, in their order.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const nlohmann::json& a, const nlohmann::json& b) {
                     std::string name_a = RefNameOf(a);
                     std::string name_b = RefNameOf(b);
                     if (name_a.empty() != name_b.empty()) return name_b.empty();
                     return name_a < name_b;
                   });
  manifests = nlohmann::json(std::move(entries));
  std::string path = PathOf("index.json");
  StatusOr<std::string> text = CanonicalJson(index, "the image index '" + path + "'");
  if (!text.ok()) return text.status();
  return snapshot::WriteFileAtomically(path, 0644,
                                       [&](int fd) { return snapshot::WriteAll(fd, *text, path); });
}

Status OciLayout::SetIndexEntry(const LayoutLock& /*index_lock*/, const Descriptor& manifest,
                                const std::string& ref_name) const {
  StatusOr<nlohmann::json> index = ReadIndex();
  if (!index.ok()) return index.status();
  nlohmann::json entry = DescriptorJson(manifest);
  entry["annotations"] = {{kRefNameAnnotation, ref_name}};
  const nlohmann::json* current = FindRef(*index, ref_name);
  if (current != nullptr && *current == entry) return Status::Ok();
  PutEntry(&*index, std::move(entry));
  if (!index->contains("schemaVersion")) (*index)["schemaVersion"] = 2;
  return WriteIndex(std::move(*index));
}

void OciLayout::PutEntry(nlohmann::json* index, nlohmann::json entry) {
  std::string ref_name = RefNameOf(entry);
  nlohmann::json entries = nlohmann::json::array();
  for (const nlohmann::json& other : IndexEntries(*index)) {
    if (RefNameOf(other) != ref_name) entries.push_back(other);
  }
  entries.push_back(std::move(entry));
  (*index)["manifests"] = std::move(entries);
}

const nlohmann::json* OciLayout::FindRef(const nlohmann::json& index, const std::string& ref_name) {
  for (const nlohmann::json& entry : IndexEntries(index)) {
    if (RefNameOf(entry) == ref_name) return &entry;
  }
  return nullptr;
}

std::string OciLayout::RefNames(const nlohmann::json& index) {
  std::string names;
  for (const nlohmann::json& entry : IndexEntries(index)) {
    std::string name = RefNameOf(entry);
    if (name.empty()) continue;
    names += (names.empty() ? "" : ", ") + name;
  }
  return names.empty() ? "none" : names;
}

LayerCache OciLayout::ReadLayerCache() const {
  LayerCache cache;
  StatusOr<std::string> text = snapshot::ReadSmallFile(PathOf(kLayerCacheFile));
  if (!text.ok()) return cache;
  nlohmann::json parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return cache;
  auto layers = parsed.find("layers");
  if (layers == parsed.end() || !layers->is_object()) return cache;
  for (auto it = layers->begin(); it != layers->end(); ++it) {
    const nlohmann::json& entry = it.value();
    if (!entry.is_object()) continue;
    auto digest = entry.find("digest");
    auto diff_id = entry.find("diff_id");
    auto size = entry.find("size");
    if (digest == entry.end() || !digest->is_string() || diff_id == entry.end() ||
        !diff_id->is_string() || size == entry.end() || !size->is_number_unsigned()) {
      continue;
    }
    CachedLayer layer{digest->get<std::string>(), diff_id->get<std::string>(),
                      size->get<uint64_t>()};
    if (IsSha256Digest(layer.digest) && IsSha256Digest(layer.diff_id)) cache[it.key()] = layer;
  }
  return cache;
}

Status OciLayout::WriteLayerCache(const LayerCache& cache) const {
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [key, layer] : cache) {
    layers[key] = {{"digest", layer.digest}, {"diff_id", layer.diff_id}, {"size", layer.size}};
  }
  std::string path = PathOf(kLayerCacheFile);
  StatusOr<std::string> text = CanonicalJson({{"version", 1}, {"layers", std::move(layers)}},
                                             "the layer cache '" + path + "'");
  if (!text.ok()) return text.status();
  return snapshot::WriteFileAtomically(path, 0644,
                                       [&](int fd) { return snapshot::WriteAll(fd, *text, path); });
}

std::string FormatBytes(uint64_t bytes) {
  char text[32];
  if (bytes < 1000) {
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1000 * 1000) {
    std::snprintf(text, sizeof text, "%.1f KB", bytes / 1e3);
  } else if (bytes < 1000ull * 1000 * 1000) {
    std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
  }
  return text;
}

}  // namespace amlc::runtime::image
