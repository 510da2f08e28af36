#include "runtime/artifacts/snapshot/zip_export.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime::snapshot {
namespace {

// 1980-01-01T00:00:00Z: the earliest time a zip header can hold; any fixed
// value keeps the bytes reproducible.
constexpr time_t kZipEpoch = 315532800;

struct ArchiveFree {
  void operator()(archive* writer) const { archive_write_free(writer); }
};
struct EntryFree {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

Status ArchiveError(archive* writer, const std::string& zip_path) {
  const char* detail = archive_error_string(writer);
  return Status(StatusCode::kInternal,
                "cannot write zip '" + zip_path + "': " + (detail ? detail : "libarchive error"));
}

Status WriteEntry(archive* writer, const SnapshotFile& file, const BlobStore& blobs,
                  const std::string& zip_path) {
  std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
  archive_entry_set_pathname_utf8(entry.get(), file.path.c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), file.executable ? 0755 : 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(file.size));
  archive_entry_set_mtime(entry.get(), kZipEpoch, 0);
  if (archive_write_header(writer, entry.get()) != ARCHIVE_OK) {
    return ArchiveError(writer, zip_path);
  }
  return blobs.Read(file.digest, file.size, [&](std::string_view chunk) -> Status {
    la_ssize_t written = archive_write_data(writer, chunk.data(), chunk.size());
    if (written < 0 || static_cast<size_t>(written) != chunk.size()) {
      return ArchiveError(writer, zip_path);
    }
    return Status::Ok();
  });
}

}  // namespace

Status WriteZip(const Snapshot& snapshot, const BlobStore& blobs, const std::string& zip_path) {
  return WriteFileAtomically(zip_path, 0644, [&](int fd) -> Status {
    std::unique_ptr<archive, ArchiveFree> writer(archive_write_new());
    if (archive_write_set_format_zip(writer.get()) != ARCHIVE_OK ||
        archive_write_open_fd(writer.get(), fd) != ARCHIVE_OK) {
      return ArchiveError(writer.get(), zip_path);
    }
    for (const SnapshotFile& file : snapshot.files) {
      Status status = WriteEntry(writer.get(), file, blobs, zip_path);
      if (!status.ok()) return status;
    }
    // Close before the rename: it writes the central directory.
    if (archive_write_close(writer.get()) != ARCHIVE_OK)
      return ArchiveError(writer.get(), zip_path);
    return Status::Ok();
  });
}

}  // namespace amlc::runtime::snapshot
