// Implementation notes: the local target runs an image's files directly, so
// an image is unpacked once per digest with libarchive's disk writer and its
// security flags (no absolute paths, no "..", no writing through symlinks).
// OCI whiteouts (".wh.NAME") delete what lower layers put there.
#include "runtime/artifacts/oci/oci_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "runtime/artifacts/oci/oci_layout.h"

namespace amlc::runtime::image {

namespace fs = std::filesystem;

namespace {

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

StatusOr<nlohmann::json> ReadManifest(const OciLayout& layout, const std::string& manifest_digest) {
  auto text = layout.ReadBlob(manifest_digest);
  if (!text.ok()) return text.status();
  return ParseJson(text.value(), "manifest " + manifest_digest);
}

// Applies an OCI whiteout entry: ".wh.NAME" removes NAME, ".wh..wh..opq"
// empties the folder it is in. True when `path` was a whiteout.
bool ApplyWhiteout(const fs::path& root, const std::string& path) {
  fs::path relative(path);
  std::string name = relative.filename().string();
  if (name.rfind(".wh.", 0) != 0) return false;
  std::error_code error;
  fs::path folder = root / relative.parent_path();
  if (name == ".wh..wh..opq") {
    for (const auto& entry : fs::directory_iterator(folder, error)) fs::remove_all(entry.path(), error);
  } else {
    fs::remove_all(folder / name.substr(4), error);
  }
  return true;
}

bool EscapesRoot(const std::string& path) {
  if (path.empty() || path[0] == '/') return true;
  for (const auto& part : fs::path(path)) {
    if (part == "..") return true;
  }
  return false;
}

Status ExtractLayer(const std::string& blob, const fs::path& root) {
  std::unique_ptr<archive, ArchiveReadDeleter> in(archive_read_new());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_none(in.get());
  archive_read_support_format_tar(in.get());
  std::unique_ptr<archive, ArchiveWriteDeleter> out(archive_write_disk_new());
  // Entries are given absolute paths under `root` (no chdir: other threads
  // run), so escapes are checked on the layer's own names first.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  if (archive_read_open_filename(in.get(), blob.c_str(), 1 << 20) != ARCHIVE_OK) {
    return Status(StatusCode::kInternal, "cannot read layer " + blob + ": " + archive_error_string(in.get()));
  }
  archive_entry* entry = nullptr;
  while (true) {
    int read = archive_read_next_header(in.get(), &entry);
    if (read == ARCHIVE_EOF) break;
    if (read != ARCHIVE_OK && read != ARCHIVE_WARN) {
      return Status(StatusCode::kInternal, "damaged layer " + blob + ": " + archive_error_string(in.get()));
    }
    std::string path = archive_entry_pathname(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (EscapesRoot(path) || (hardlink && EscapesRoot(hardlink))) {
      return Status(StatusCode::kInvalidArgument, "layer " + blob + " has an entry outside the image: '" + path + "'");
    }
    if (ApplyWhiteout(root, path)) continue;
    archive_entry_set_pathname(entry, (root / path).c_str());
    if (hardlink) archive_entry_set_hardlink(entry, (root / hardlink).c_str());
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
      return Status(StatusCode::kInvalidArgument,
                    "cannot unpack '" + path + "' of layer " + blob + ": " + archive_error_string(out.get()));
    }
    const void* data = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((read = archive_read_data_block(in.get(), &data, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out.get(), data, size, offset) != ARCHIVE_OK) {
        return Status(StatusCode::kUnavailable, "cannot write '" + path + "': " + archive_error_string(out.get()));
      }
    }
    if (read != ARCHIVE_EOF) {
      return Status(StatusCode::kInternal, "damaged layer " + blob + ": " + archive_error_string(in.get()));
    }
    archive_write_finish_entry(out.get());
  }
  return Status::Ok();
}

}  // namespace

StatusOr<RuntimeConfig> ReadRuntimeConfig(const std::string& layout_dir, const std::string& manifest_digest) {
  OciLayout layout(layout_dir);
  auto manifest = ReadManifest(layout, manifest_digest);
  if (!manifest.ok()) return manifest.status();
  if (!manifest->contains("config") || !(*manifest)["config"].is_object()) {
    return Status(StatusCode::kInvalidArgument, "manifest " + manifest_digest + " names no config");
  }
  auto text = layout.ReadBlob((*manifest)["config"].value("digest", ""));
  if (!text.ok()) return text.status();
  auto config = ParseJson(text.value(), "image config");
  if (!config.ok()) return config.status();
  RuntimeConfig runtime;
  const nlohmann::json& c = config->contains("config") ? (*config)["config"] : nlohmann::json::object();
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    if (c.contains(key) && c[key].is_array()) {
      for (const auto& item : c[key]) {
        if (item.is_string()) out.push_back(item.get<std::string>());
      }
    }
    return out;
  };
  runtime.entrypoint = strings("Entrypoint");
  runtime.cmd = strings("Cmd");
  for (const std::string& pair : strings("Env")) {
    size_t equals = pair.find('=');
    if (equals != std::string::npos) runtime.env[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  if (c.contains("WorkingDir") && c["WorkingDir"].is_string()) runtime.working_dir = c["WorkingDir"];
  return runtime;
}

Status UnpackImage(const std::string& layout_dir, const std::string& manifest_digest, const std::string& rootfs) {
  OciLayout layout(layout_dir);
  auto manifest = ReadManifest(layout, manifest_digest);
  if (!manifest.ok()) return manifest.status();
  fs::path temporary = rootfs + ".tmp-" + std::to_string(getpid());
  std::error_code error;
  fs::remove_all(temporary, error);
  fs::create_directories(temporary, error);
  if (error) return Status(StatusCode::kUnavailable, "cannot create '" + temporary.string() + "': " + error.message());
  const nlohmann::json layers = manifest->value("layers", nlohmann::json::array());
  for (const auto& layer : layers) {
    std::string digest = layer.is_object() ? layer.value("digest", "") : "";
    if (!IsSha256Digest(digest)) {
      fs::remove_all(temporary, error);
      return Status(StatusCode::kInvalidArgument, "manifest " + manifest_digest + " has a malformed layer digest");
    }
    if (Status status = ExtractLayer(layout.BlobPath(digest), temporary); !status.ok()) {
      fs::remove_all(temporary, error);
      return status;
    }
  }
  fs::rename(temporary, rootfs, error);
  if (error) {
    fs::remove_all(temporary, error);
    if (fs::is_directory(rootfs)) return Status::Ok();  // another process unpacked it first
    return Status(StatusCode::kUnavailable, "cannot move the unpacked image to '" + rootfs + "'");
  }
  return Status::Ok();
}

}  // namespace amlc::runtime::image
