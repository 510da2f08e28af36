// PushImage and PullImage: the OCI distribution API steps, over a
// RegistrySession (registry_http.h) and an OCI layout (oci_layout.h).

#include "runtime/artifacts/oci/registry_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "runtime/artifacts/oci/oci_layout.h"
#include "runtime/artifacts/oci/registry_http.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime::image {
namespace {

using registry::HttpRequest;
using registry::HttpResponse;
using registry::RegistrySession;

constexpr uint64_t kMaxManifestSize = 4 * 1024 * 1024;
constexpr char kOctetStream[] = "application/octet-stream";

// The config and layer descriptors of an image manifest (OCI or Docker schema2).
StatusOr<std::vector<Descriptor>> ManifestBlobs(const nlohmann::json& manifest,
                                                const std::string& what) {
  auto bad = [&](const std::string& why) {
    return Status(StatusCode::kFailedPrecondition,
                  what + " is not a usable image manifest: " + why);
  };
  auto descriptor = [&](const nlohmann::json& json, Descriptor* out) -> Status {
    if (!json.is_object() || !json.contains("digest") || !json["digest"].is_string() ||
        !json.contains("size") || !json["size"].is_number_unsigned()) {
      return bad("a descriptor lacks its digest or size");
    }
    out->digest = json["digest"].get<std::string>();
    out->size = json["size"].get<uint64_t>();
    if (!IsSha256Digest(out->digest)) {
      return bad("the digest '" + out->digest + "' is not sha256:<64 hex digits>");
    }
    return Status::Ok();
  };
  if (!manifest.is_object()) return bad("not a JSON object");
  if (!manifest.contains("config")) return bad("no config");
  std::vector<Descriptor> blobs(1);
  if (Status status = descriptor(manifest["config"], &blobs[0]); !status.ok()) return status;
  if (manifest.contains("layers")) {
    if (!manifest["layers"].is_array()) return bad("layers is not an array");
    for (const nlohmann::json& layer : manifest["layers"]) {
      Descriptor one;
      if (Status status = descriptor(layer, &one); !status.ok()) return status;
      blobs.push_back(one);
    }
  }
  // A blob shared by two layers (an empty layer, say) is transferred once.
  std::set<std::string> seen;
  std::vector<Descriptor> unique;
  for (Descriptor& blob : blobs) {
    if (seen.insert(blob.digest).second) unique.push_back(std::move(blob));
  }
  return unique;
}

std::string MediaTypeOf(const nlohmann::json& manifest, const std::string& content_type) {
  if (manifest.is_object() && manifest.contains("mediaType") && manifest["mediaType"].is_string()) {
    return manifest["mediaType"].get<std::string>();
  }
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

bool IsIndexType(std::string_view type) {
  return type == registry::kOciIndex || type == registry::kDockerManifestList;
}

// --- push -------------------------------------------------------------------

// POSTs for an upload session and returns its Location, where the blob's
// bytes go.
StatusOr<std::string> StartUpload(RegistrySession& session, const Descriptor& blob) {
  HttpRequest start;
  start.method = "POST";
  start.target = session.RepositoryPath() + "/blobs/uploads/";
  start.what = "starting the upload of blob " + blob.digest;
  StatusOr<HttpResponse> started = session.Send(start);
  if (!started.ok()) return started.status();
  if (started->status != 202) return session.ErrorFor(*started, start.what);
  std::string location = started->Header("location");
  if (location.empty()) {
    return Status(StatusCode::kFailedPrecondition, "registry " + session.host() +
                                                       " answered 202 to " + start.what +
                                                       " without a Location header");
  }
  return location;
}

// Serves body bytes of the range [base, base + length) of the file open as
// `fd`, read with pread so that several sources can share the descriptor.
registry::BodySource FileRangeSource(int fd, const std::string& path, uint64_t base,
                                     uint64_t length) {
  registry::BodySource source;
  source.size = length;
  source.read = [fd, path, base, length](uint64_t offset, char* buffer,
                                         size_t size) -> StatusOr<size_t> {
    size_t want = static_cast<size_t>(std::min<uint64_t>(size, length - offset));
    while (true) {
      ssize_t n = pread(fd, buffer, want, static_cast<off_t>(base + offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return snapshot::ErrnoStatus(errno, "cannot read", path);
    }
  };
  return source;
}

// Counts what `source` (bytes [base, base + size) of a blob) hands to the
// HTTP client into `meter`, and passes the meter's throttled reports on.
registry::BodySource Metered(registry::BodySource source, uint64_t base, ByteMeter* meter,
                             const std::function<void(const ByteProgress&)>& on_bytes) {
  if (!on_bytes) return source;
  source.read = [read = std::move(source.read), base, meter, &on_bytes](
                    uint64_t offset, char* buffer, size_t size) -> StatusOr<size_t> {
    StatusOr<size_t> got = read(offset, buffer, size);
    if (got.ok()) {
      if (auto report = meter->Update(ProgressClock::now(), base + offset + *got)) on_bytes(*report);
    }
    return got;
  };
  return source;
}

// PATCHes the blob in pieces of `chunk_size` bytes. `location` follows the
// registry, which may move the upload session with every answer.
Status UploadChunks(RegistrySession& session, int fd, const std::string& path,
                    const Descriptor& blob, uint64_t chunk_size, std::string* location,
                    ByteMeter* meter, const std::function<void(const ByteProgress&)>& on_bytes) {
  for (uint64_t offset = 0; offset < blob.size;) {
    uint64_t length = std::min(chunk_size, blob.size - offset);
    registry::BodySource chunk = Metered(FileRangeSource(fd, path, offset, length), offset, meter, on_bytes);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.target = *location;
    patch.source = &chunk;
    patch.content_type = kOctetStream;
    patch.headers.emplace_back(
        "Content-Range", std::to_string(offset) + "-" + std::to_string(offset + length - 1));
    patch.what = "uploading bytes " + std::to_string(offset) + "-" +
                 std::to_string(offset + length - 1) + " of blob " + blob.digest;
    StatusOr<HttpResponse> patched = session.Send(patch);
    if (!patched.ok()) return patched.status();
    if (patched->status != 202) return session.ErrorFor(*patched, patch.what);
    // The registry's Range says what it holds: anything but all the bytes sent
    // so far means a chunk went missing.
    std::string range = patched->Header("range");
    if (!range.empty() && range != "0-" + std::to_string(offset + length - 1)) {
      return Status(StatusCode::kUnavailable, "registry " + session.host() + " holds bytes " +
                                                  range + " of blob " + blob.digest + " after " +
                                                  patch.what + "; try the push again");
    }
    std::string next = patched->Header("location");
    if (!next.empty()) *location = next;
    offset += length;
  }
  return Status::Ok();
}

// Sends the closing PUT (`finish`, its target and any body already set) and
// checks the registry stored the blob under its digest.
Status CompleteUpload(RegistrySession& session, const HttpRequest& finish,
                      const std::string& path, const Descriptor& blob) {
  StatusOr<HttpResponse> finished = session.Send(finish);
  if (!finished.ok()) return finished.status();
  if (finished->status != 201) {
    Status error = session.ErrorFor(*finished, finish.what);
    if (error.message().find("DIGEST_INVALID") != std::string::npos) {
      return Status(StatusCode::kFailedPrecondition,
                    error.message() + " (the layout's file '" + path +
                        "' does not hash to its name: the layout is damaged)");
    }
    return error;
  }
  std::string stored = finished->Header("docker-content-digest");
  if (!stored.empty() && stored != blob.digest) {
    return Status(StatusCode::kFailedPrecondition,
                  "registry " + session.host() + " stored blob " + blob.digest + " as " + stored);
  }
  return Status::Ok();
}

// Uploads one blob from `path`: POST for an upload session, then one PUT with
// the whole file, or PATCHes of `chunk_size` bytes and a closing PUT.
Status UploadBlob(RegistrySession& session, const std::string& path, const Descriptor& blob,
                  uint64_t chunk_size, const std::string& label,
                  const std::function<void(const ByteProgress&)>& on_bytes) {
  ByteMeter meter(label, blob.size, ProgressClock::now());
  snapshot::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return snapshot::ErrnoStatus(errno, "cannot open", path);
  StatusOr<std::string> location = StartUpload(session, blob);
  if (!location.ok()) return location.status();

  HttpRequest finish;
  finish.method = "PUT";
  finish.what = "completing the upload of blob " + blob.digest;
  registry::BodySource whole;
  if (chunk_size == 0) {
    whole = Metered(FileRangeSource(fd.get(), path, 0, blob.size), 0, &meter, on_bytes);
    finish.source = &whole;
    finish.content_type = kOctetStream;
    finish.what = "uploading blob " + blob.digest;
  } else {
    Status sent = UploadChunks(session, fd.get(), path, blob, chunk_size, &*location, &meter, on_bytes);
    if (!sent.ok()) return sent;
  }
  finish.target = registry::AppendQuery(*location, "digest=" + blob.digest);
  return CompleteUpload(session, finish, path, blob);
}

void Report(const std::function<void(const std::string&)>& progress, const std::string& line) {
  if (progress) progress(line);
}

// Checks the push arguments and returns the tag to push under: "latest" when
// `to` names none.
StatusOr<std::string> PushTag(const std::string& manifest_digest, const RegistryReference& to) {
  if (!IsSha256Digest(manifest_digest)) {
    return Status(StatusCode::kInvalidArgument,
                  "'" + manifest_digest + "' is not a manifest digest (sha256:<64 hex digits>)");
  }
  if (to.host.empty() || to.repository.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "push destination '" + to.ToString() + "' lacks a host or repository");
  }
  std::string tag = to.tag.empty() ? "latest" : to.tag;
  if (IsSha256Digest(tag) && tag != manifest_digest) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot push manifest " + manifest_digest + " as the different digest " + tag);
  }
  return tag;
}

// An image manifest of a layout, as pushed: its bytes, media type and blobs.
struct LayoutManifest {
  std::string bytes;
  std::string media_type;
  std::vector<Descriptor> blobs;
};

StatusOr<LayoutManifest> ReadLayoutManifest(const OciLayout& layout,
                                            const std::string& manifest_digest,
                                            const std::string& what) {
  StatusOr<std::string> bytes = layout.ReadBlob(manifest_digest, kMaxManifestSize);
  if (!bytes.ok()) return bytes.status();
  nlohmann::json json = nlohmann::json::parse(*bytes, nullptr, false);
  LayoutManifest manifest;
  manifest.media_type = MediaTypeOf(json, "");
  if (manifest.media_type.empty()) manifest.media_type = registry::kOciManifest;
  if (IsIndexType(manifest.media_type)) {
    return Status(StatusCode::kInvalidArgument,
                  what + " is an image index; push one of the image manifests it lists");
  }
  StatusOr<std::vector<Descriptor>> blobs = ManifestBlobs(json, what);
  if (!blobs.ok()) return blobs.status();
  manifest.bytes = std::move(*bytes);
  manifest.blobs = std::move(*blobs);
  return manifest;
}

// Checks that the layout's file for `blob` is there with the size the
// manifest gives, before anything is sent.
Status CheckLayoutBlob(const std::string& path, const Descriptor& blob,
                       const std::string& layout_dir, const std::string& what) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return Status(StatusCode::kNotFound, "the OCI layout '" + layout_dir + "' lacks blob " +
                                               blob.digest + " of " + what);
    }
    return snapshot::ErrnoStatus(errno, "cannot stat", path);
  }
  if (static_cast<uint64_t>(info.st_size) != blob.size) {
    return Status(StatusCode::kFailedPrecondition,
                  "blob '" + path + "' has " + std::to_string(info.st_size) + " bytes, not the " +
                      std::to_string(blob.size) + " " + what + " says (the layout is damaged)");
  }
  return Status::Ok();
}

// Uploads `blob` from `path` unless the registry has it already (HEAD
// answers 200), and counts it in `result`.
Status PushBlob(RegistrySession& session, const std::string& path, const Descriptor& blob,
                const std::string& label, const RegistryOptions& options,
                const std::function<void(const std::string&)>& progress, PushResult* result) {
  HttpRequest head;
  head.method = "HEAD";
  head.target = session.RepositoryPath() + "/blobs/" + blob.digest;
  head.what = "checking for blob " + blob.digest;
  StatusOr<HttpResponse> exists = session.Send(head);
  if (!exists.ok()) return exists.status();
  if (exists->status == 200) {
    ++result->blobs_skipped;
    Report(progress, "blob " + registry::ShortDigest(blob.digest) + " exists, skipped");
    return Status::Ok();
  }
  if (exists->status != 404) return session.ErrorFor(*exists, head.what);
  Status uploaded = UploadBlob(session, path, blob, options.chunk_size, label, options.on_bytes);
  if (!uploaded.ok()) return uploaded;
  ++result->blobs_uploaded;
  result->bytes_uploaded += blob.size;
  Report(progress, "blob " + registry::ShortDigest(blob.digest) + " " +
                       registry::HumanBytes(blob.size) + " uploaded");
  return Status::Ok();
}

// PUTs the manifest under `tag`, last, so that the registry has every blob it
// references; the registry must store it unchanged, under its digest.
Status PutManifest(RegistrySession& session, const RegistryReference& to, const std::string& tag,
                   const std::string& manifest_digest, LayoutManifest manifest) {
  HttpRequest put;
  put.method = "PUT";
  put.target = session.RepositoryPath() + "/manifests/" + tag;
  put.content_type = std::move(manifest.media_type);
  put.body = std::move(manifest.bytes);
  put.what = "storing manifest " + manifest_digest + " as " + to.repository +
             (IsSha256Digest(tag) ? "@" : ":") + tag;
  StatusOr<HttpResponse> stored = session.Send(put);
  if (!stored.ok()) return stored.status();
  if (stored->status != 201) return session.ErrorFor(*stored, put.what);
  std::string digest = stored->Header("docker-content-digest");
  if (!digest.empty() && digest != manifest_digest) {
    return Status(StatusCode::kFailedPrecondition, "registry " + to.host + " stored manifest " +
                                                       manifest_digest + " under digest " + digest +
                                                       " (it changed the manifest)");
  }
  return Status::Ok();
}

// --- pull -------------------------------------------------------------------

// GETs the manifest `reference` (tag or digest) and checks its digest.
struct FetchedManifest {
  std::string bytes;
  std::string digest;
  std::string media_type;
  nlohmann::json json;
};

StatusOr<FetchedManifest> FetchManifest(RegistrySession& session, const std::string& reference,
                                        const std::string& what) {
  HttpRequest request;
  request.method = "GET";
  request.target = session.RepositoryPath() + "/manifests/" + reference;
  request.what = what;
  request.headers.emplace_back("Accept", std::string(registry::kOciManifest) + ", " +
                                             std::string(registry::kDockerManifest) + ", " +
                                             std::string(registry::kOciIndex) + ", " +
                                             std::string(registry::kDockerManifestList));
  StatusOr<HttpResponse> response = session.Send(request);
  if (!response.ok()) return response.status();
  if (response->status != 200) return session.ErrorFor(*response, what);
  FetchedManifest out;
  out.bytes = std::move(response->body);
  if (out.bytes.size() > kMaxManifestSize) {
    return Status(StatusCode::kFailedPrecondition, "the manifest from " + session.host() +
                                                       " is larger than " +
                                                       registry::HumanBytes(kMaxManifestSize));
  }
  snapshot::Sha256 hash;
  hash.Update(out.bytes.data(), out.bytes.size());
  out.digest = "sha256:" + hash.FinishHex();
  if (IsSha256Digest(reference) && out.digest != reference) {
    return Status(StatusCode::kFailedPrecondition, "registry " + session.host() + " answered " +
                                                       what +
                                                       " with a manifest "
                                                       "hashing to " +
                                                       out.digest);
  }
  std::string claimed = response->Header("docker-content-digest");
  if (!claimed.empty() && claimed != out.digest) {
    return Status(StatusCode::kFailedPrecondition,
                  "the manifest from " + session.host() + " hashes to " + out.digest +
                      ", not to the " + claimed + " its Docker-Content-Digest header says");
  }
  out.json = nlohmann::json::parse(out.bytes, nullptr, false);
  if (!out.json.is_object()) {
    return Status(StatusCode::kFailedPrecondition,
                  "registry " + session.host() + " answered " + what + " with something not JSON");
  }
  out.media_type = MediaTypeOf(out.json, response->Header("content-type"));
  return out;
}

// The linux/amd64 entry of an image index or Docker manifest list.
StatusOr<std::string> PickPlatform(const FetchedManifest& index, const std::string& host) {
  std::vector<std::string> seen;
  if (index.json.contains("manifests") && index.json["manifests"].is_array()) {
    for (const nlohmann::json& entry : index.json["manifests"]) {
      if (!entry.is_object() || !entry.contains("platform") || !entry["platform"].is_object()) {
        continue;
      }
      const nlohmann::json& platform = entry["platform"];
      std::string os = platform.value("os", "");
      std::string arch = platform.value("architecture", "");
      seen.push_back(os + "/" + arch);
      if (os == "linux" && arch == "amd64" && entry.contains("digest") &&
          entry["digest"].is_string() &&
          IsSha256Digest(entry["digest"].get<std::string>())) {
        return entry["digest"].get<std::string>();
      }
    }
  }
  std::string list;
  for (const std::string& one : seen) list += (list.empty() ? "" : ", ") + one;
  return Status(StatusCode::kNotFound,
                "the image index " + index.digest + " on " + host +
                    " has no linux/amd64 image (it has: " + (list.empty() ? "none" : list) + ")");
}

// Fetches one blob into `layout`, its bytes reported to `received` as they come.
Status DownloadBlob(RegistrySession& session, const OciLayout& layout, const Descriptor& blob,
                    ByteReporter& received) {
  return layout.WriteBlobWith(blob, session.host(), [&](const OciLayout::BlobWriter& write) {
    uint64_t total = 0;
    HttpRequest request;
    request.method = "GET";
    request.target = session.RepositoryPath() + "/blobs/" + blob.digest;
    request.what = "downloading blob " + blob.digest;
    request.sink = [&](std::string_view chunk) -> Status {
      total += chunk.size();
      if (total > blob.size) {
        return Status(StatusCode::kFailedPrecondition,
                      "registry " + session.host() + " sent more than the " +
                          std::to_string(blob.size) + " bytes of blob " + blob.digest);
      }
      received.Reached(total);
      return write(chunk);
    };
    StatusOr<HttpResponse> response = session.Send(request);
    if (!response.ok()) return response.status();
    if (response->status != 200) return session.ErrorFor(*response, request.what);
    if (total != blob.size) {
      return Status(StatusCode::kUnavailable,
                    "registry " + session.host() + " sent " + std::to_string(total) + " of the " +
                        std::to_string(blob.size) + " bytes of blob " + blob.digest);
    }
    return Status::Ok();
  });
}

}  // namespace

StatusOr<PushResult> PushImage(const std::string& layout_dir, const std::string& manifest_digest,
                               const RegistryReference& to, const RegistryOptions& options,
                               const std::function<void(const std::string&)>& progress) {
  StatusOr<std::string> tag = PushTag(manifest_digest, to);
  if (!tag.ok()) return tag.status();
  // Keeps RemoveImage from deleting the blobs while they are read. Best
  // effort: a layout on a read-only file system has no such writers.
  StatusOr<LayoutLock> gc_lock = LayoutLock::Acquire(layout_dir, kGcLockFile, /*exclusive=*/false);
  OciLayout layout(layout_dir);
  std::string what = "manifest " + manifest_digest + " of '" + layout_dir + "'";
  StatusOr<LayoutManifest> manifest = ReadLayoutManifest(layout, manifest_digest, what);
  if (!manifest.ok()) return manifest.status();

  RegistrySession session(to, options, "repository:" + to.repository + ":pull,push");
  if (Status init = session.Init(); !init.ok()) return init;
  PushResult result;
  result.manifest_digest = manifest_digest;
  size_t count = manifest->blobs.size();
  for (size_t i = 0; i < count; ++i) {
    const Descriptor& blob = manifest->blobs[i];
    std::string path = layout.BlobPath(blob.digest);
    std::string label = "blob " + std::to_string(i + 1) + "/" + std::to_string(count) + " " +
                        registry::ShortDigest(blob.digest);
    if (Status checked = CheckLayoutBlob(path, blob, layout_dir, what); !checked.ok()) {
      return checked;
    }
    Status pushed = PushBlob(session, path, blob, label, options, progress, &result);
    if (!pushed.ok()) return pushed;
  }
  Status put = PutManifest(session, to, *tag, manifest_digest, std::move(*manifest));
  if (!put.ok()) return put;
  Report(progress,
         "manifest " + registry::ShortDigest(manifest_digest) + " pushed to " + to.ToString());
  return result;
}

StatusOr<std::string> PullImage(const RegistryReference& from, const std::string& layout_dir,
                                const std::string& ref_name, const RegistryOptions& options) {
  if (from.host.empty() || from.repository.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "image reference '" + from.ToString() + "' lacks a host or repository");
  }
  if (ref_name.empty()) {
    return Status(StatusCode::kInvalidArgument, "pulling " + from.ToString() + " needs a ref name");
  }
  std::string reference = from.tag.empty() ? "latest" : from.tag;
  RegistrySession session(from, options, "repository:" + from.repository + ":pull");
  if (Status init = session.Init(); !init.ok()) return init;
  // Blobs come before the index entry that references them: keep RemoveImage's
  // garbage collection away until the entry is there.
  OciLayout layout(layout_dir);
  if (Status created = layout.Create(); !created.ok()) return created;
  StatusOr<LayoutLock> gc_lock = LayoutLock::Acquire(layout_dir, kGcLockFile, /*exclusive=*/false);
  if (!gc_lock.ok()) return gc_lock.status();

  StatusOr<FetchedManifest> manifest =
      FetchManifest(session, reference, "getting manifest " + from.repository + ":" + reference);
  if (!manifest.ok()) return manifest.status();
  if (IsIndexType(manifest->media_type) ||
      (manifest->json.contains("manifests") && !manifest->json.contains("layers"))) {
    StatusOr<std::string> chosen = PickPlatform(*manifest, from.host);
    if (!chosen.ok()) return chosen.status();
    manifest = FetchManifest(session, *chosen, "getting the linux/amd64 manifest " + *chosen);
    if (!manifest.ok()) return manifest.status();
    if (IsIndexType(manifest->media_type)) {
      return Status(StatusCode::kFailedPrecondition,
                    "the linux/amd64 entry of " + from.ToString() + " is another index");
    }
  }
  if (manifest->media_type.find("manifest.v1") != std::string::npos &&
      manifest->media_type.find("docker") != std::string::npos) {
    return Status(StatusCode::kFailedPrecondition,
                  from.ToString() + " is a Docker schema 1 image, which amlc does not read");
  }
  if (manifest->media_type.empty()) manifest->media_type = registry::kOciManifest;
  StatusOr<std::vector<Descriptor>> blobs =
      ManifestBlobs(manifest->json, "manifest " + manifest->digest + " of " + from.ToString());
  if (!blobs.ok()) return blobs.status();
  for (size_t i = 0; i < blobs->size(); ++i) {
    const Descriptor& blob = (*blobs)[i];
    if (layout.HasBlob(blob.digest, blob.size)) continue;
    ByteReporter received(options.on_bytes,
                          "pull blob " + std::to_string(i + 1) + "/" + std::to_string(blobs->size()) + " " +
                              registry::ShortDigest(blob.digest),
                          blob.size);
    Status downloaded = DownloadBlob(session, layout, blob, received);
    if (!downloaded.ok()) return downloaded;
    received.Finish();
  }
  StatusOr<bool> put = layout.PutBlob(manifest->digest, manifest->bytes);
  if (!put.ok()) return put.status();
  StatusOr<LayoutLock> index_lock =
      LayoutLock::Acquire(layout_dir, kIndexLockFile, /*exclusive=*/true);
  if (!index_lock.ok()) return index_lock.status();
  Status indexed = layout.SetIndexEntry(
      *index_lock, {manifest->media_type, manifest->digest, manifest->bytes.size()}, ref_name);
  if (!indexed.ok()) return indexed;
  return manifest->digest;
}

}  // namespace amlc::runtime::image
