#include "runtime/artifacts/oci/oci_layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "runtime/artifacts/snapshot/file_io.h"

// Implementation notes
//
// Two libarchive writers form a pipeline: a pax-restricted tar writer whose
// write callback (TarSink) hashes the tar bytes and passes them to a "raw"
// format writer with the gzip filter, whose callback (GzipSink) hashes the
// compressed bytes and writes them to the temporary blob file. The tar
// writer is unbuffered (bytes_per_block 0), so bytes go through as they are
// produced; neither writer pads its last block, so the blob is exactly the
// gzip stream of exactly the tar stream.
//
// libarchive converts path names through the current locale; in the "C"
// locale a non-ASCII UTF-8 name cannot be converted and the pax writer falls
// back to hdrcharset=BINARY (or crashes, in 3.6.2, for names set as UTF-8).
// The building thread therefore switches to the C.UTF-8 locale while it
// writes (uselocale is per thread), which gives the same bytes whatever
// locale the process runs in.

namespace amlc::runtime::image {

using snapshot::ErrnoStatus;
using snapshot::UniqueFd;

namespace {

constexpr size_t kReadBufferSize = 1 << 20;
constexpr int kGzipBlockSize = 1 << 20;

struct ArchiveFree {
  void operator()(archive* writer) const { archive_write_free(writer); }
};
struct EntryFree {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

std::string LayerName(const LayerSpec& spec) {
  return spec.description.empty() ? std::string("a layer") : "layer '" + spec.description + "'";
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The C.UTF-8 locale for this thread while the object lives (see the notes).
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() {
    static const locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (utf8 != static_cast<locale_t>(0)) previous_ = uselocale(utf8);
  }
  ~ScopedUtf8Locale() {
    if (previous_ != static_cast<locale_t>(0)) uselocale(previous_);
  }
  bool active() const { return previous_ != static_cast<locale_t>(0); }

 private:
  locale_t previous_ = static_cast<locale_t>(0);
};

// Receives the gzip stream: hashes it and writes it to the blob file.
struct GzipSink {
  int fd = -1;
  std::string path;
  snapshot::Sha256 hash;
  uint64_t size = 0;
  Status status;
};

la_ssize_t WriteGzip(archive*, void* data, const void* buffer, size_t length) {
  auto* sink = static_cast<GzipSink*>(data);
  sink->hash.Update(buffer, length);
  Status written = snapshot::WriteAll(
      sink->fd, std::string_view(static_cast<const char*>(buffer), length), sink->path);
  if (!written.ok()) {
    sink->status = written;
    return -1;
  }
  sink->size += length;
  return static_cast<la_ssize_t>(length);
}

// Receives the tar stream: hashes it (the diff_id) and passes it to gzip.
struct TarSink {
  archive* gzip = nullptr;
  snapshot::Sha256 hash;
  uint64_t size = 0;
  bool failed = false;
};

la_ssize_t WriteTar(archive*, void* data, const void* buffer, size_t length) {
  auto* sink = static_cast<TarSink*>(data);
  sink->hash.Update(buffer, length);
  la_ssize_t written = archive_write_data(sink->gzip, buffer, length);
  if (written < 0 || static_cast<size_t>(written) != length) {
    sink->failed = true;
    return -1;
  }
  sink->size += length;
  return static_cast<la_ssize_t>(length);
}

// One tar entry to write: a folder, or a file and where its bytes come from.
struct Entry {
  std::string image_path;  // folders end with '/'
  const LayerFile* file = nullptr;
};

// Folders first (each before anything inside it), then files, in byte order
// of their paths. Paths sharing a prefix "a/" are contiguous in byte order,
// so each folder is emitted just before the first path under it.
std::vector<Entry> EntriesOf(const LayerSpec& spec) {
  std::vector<const LayerFile*> files;
  for (const LayerFile& file : spec.files) files.push_back(&file);
  std::sort(files.begin(), files.end(),
            [](const LayerFile* a, const LayerFile* b) { return a->image_path < b->image_path; });
  std::vector<Entry> entries;
  std::set<std::string> folders;
  for (const LayerFile* file : files) {
    for (size_t slash = file->image_path.find('/'); slash != std::string::npos;
         slash = file->image_path.find('/', slash + 1)) {
      std::string folder = file->image_path.substr(0, slash + 1);
      if (folders.insert(folder).second) entries.push_back({folder, nullptr});
    }
    entries.push_back({file->image_path, file});
  }
  return entries;
}

class LayerWriter {
 public:
  LayerWriter(const LayerSpec& spec, std::string blob_path, ByteReporter* bytes)
      : spec_(spec), bytes_(bytes), gzip_(archive_write_new()), tar_(archive_write_new()) {
    gzip_sink_.path = std::move(blob_path);
  }

  Status Open(int fd) {
    gzip_sink_.fd = fd;
    tar_sink_.gzip = gzip_.get();
    if (archive_write_set_format_raw(gzip_.get()) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(gzip_.get()) != ARCHIVE_OK ||
        // "!timestamp": the gzip header's MTIME is 0 (no file name is written either).
        archive_write_set_filter_option(gzip_.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(gzip_.get(), kGzipBlockSize) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(gzip_.get(), 1) != ARCHIVE_OK ||
        archive_write_open2(gzip_.get(), &gzip_sink_, nullptr, WriteGzip, nullptr, nullptr) !=
            ARCHIVE_OK) {
      return Failure(gzip_.get(), "cannot start the gzip writer");
    }
    EntryPtr stream(archive_entry_new());
    archive_entry_set_pathname(stream.get(), "layer.tar");
    archive_entry_set_filetype(stream.get(), AE_IFREG);
    if (archive_write_header(gzip_.get(), stream.get()) != ARCHIVE_OK) {
      return Failure(gzip_.get(), "cannot start the gzip writer");
    }
    if (archive_write_set_format_pax_restricted(tar_.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(tar_.get(), 0) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(tar_.get(), 1) != ARCHIVE_OK ||
        archive_write_open2(tar_.get(), &tar_sink_, nullptr, WriteTar, nullptr, nullptr) !=
            ARCHIVE_OK) {
      return Failure(tar_.get(), "cannot start the tar writer");
    }
    return Status::Ok();
  }

  Status Add(const Entry& entry, char* buffer) {
    EntryPtr header(archive_entry_new());
    archive_entry_set_pathname_utf8(header.get(), entry.image_path.c_str());
    archive_entry_set_uid(header.get(), 0);
    archive_entry_set_gid(header.get(), 0);
    archive_entry_set_mtime(header.get(), 0, 0);
    if (entry.file == nullptr) {
      archive_entry_set_filetype(header.get(), AE_IFDIR);
      archive_entry_set_perm(header.get(), 0755);
      archive_entry_set_size(header.get(), 0);
      if (archive_write_header(tar_.get(), header.get()) != ARCHIVE_OK) {
        return Failure(tar_.get(), "cannot add '" + entry.image_path + "'");
      }
      return Status::Ok();
    }
    const std::string& source = entry.file->source_path;
    UniqueFd fd(open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      Status error = ErrnoStatus(errno, "cannot open", source);
      return Status(error.code(), LayerName(spec_) + ": " + error.message());
    }
    struct stat info;
    if (fstat(fd.get(), &info) != 0) return ErrnoStatus(errno, "cannot stat", source);
    if (!S_ISREG(info.st_mode)) {
      return Status(StatusCode::kInvalidArgument, LayerName(spec_) + ": '" + source + "' (for '" +
                                                      entry.image_path +
                                                      "') is not a regular file");
    }
    posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    const uint64_t size = static_cast<uint64_t>(info.st_size);
    archive_entry_set_filetype(header.get(), AE_IFREG);
    archive_entry_set_perm(header.get(), entry.file->executable ? 0755 : 0644);
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(size));
    if (archive_write_header(tar_.get(), header.get()) != ARCHIVE_OK) {
      return Failure(tar_.get(), "cannot add '" + entry.image_path + "'");
    }
    uint64_t done = 0;
    while (done < size) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kReadBufferSize, size - done));
      StatusOr<size_t> n = snapshot::ReadFull(fd.get(), buffer, want, source);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      la_ssize_t written = archive_write_data(tar_.get(), buffer, *n);
      if (written < 0 || static_cast<size_t>(written) != *n) {
        return Failure(tar_.get(), "cannot add '" + entry.image_path + "'");
      }
      done += *n;
      if (bytes_) bytes_->Add(*n);
    }
    if (done != size) {
      return Status(StatusCode::kUnavailable, LayerName(spec_) + ": '" + source +
                                                  "' changed while the layer was being built; "
                                                  "try again");
    }
    return Status::Ok();
  }

  // Ends both streams; fills the digests and sizes.
  Status Close(LayerBlob* blob) {
    if (archive_write_close(tar_.get()) != ARCHIVE_OK) {
      return Failure(tar_.get(), "cannot finish the tar stream");
    }
    if (archive_write_close(gzip_.get()) != ARCHIVE_OK) {
      return Failure(gzip_.get(), "cannot finish the gzip stream");
    }
    blob->diff_id = "sha256:" + tar_sink_.hash.FinishHex();
    blob->tar_size = tar_sink_.size;
    blob->digest = "sha256:" + gzip_sink_.hash.FinishHex();
    blob->size = gzip_sink_.size;
    return Status::Ok();
  }

 private:
  // The first error in the pipeline: a failed blob write, else libarchive's.
  Status Failure(archive* writer, const std::string& action) {
    if (!gzip_sink_.status.ok()) {
      return Status(gzip_sink_.status.code(),
                    LayerName(spec_) + ": " + gzip_sink_.status.message());
    }
    archive* culprit = tar_sink_.failed ? gzip_.get() : writer;
    const char* detail = archive_error_string(culprit);
    return Status(StatusCode::kInternal,
                  LayerName(spec_) + ": " + action + " (writing '" + gzip_sink_.path +
                      "'): " + (detail != nullptr ? detail : "libarchive error"));
  }

  // Declared so that destruction frees the tar writer (which may still
  // flush into the gzip writer) first, and the sinks last.
  const LayerSpec& spec_;
  ByteReporter* bytes_;  // may be null
  TarSink tar_sink_;
  GzipSink gzip_sink_;
  ArchivePtr gzip_;
  ArchivePtr tar_;
};

// Creates the temporary blob file in the layout's blob folder.
StatusOr<UniqueFd> CreateTemporaryBlob(const OciLayout& layout, std::string* path) {
  std::string name = layout.BlobFolder() + "/layer.tmp-XXXXXX";
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  int fd = mkostemp(buffer.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot create a temporary blob in", layout.BlobFolder());
  *path = buffer.data();
  return UniqueFd(fd);
}

}  // namespace

Status CheckLayerFiles(const LayerSpec& spec) {
  auto refuse = [&](const std::string& path, const std::string& why) {
    return Status(StatusCode::kInvalidArgument,
                  LayerName(spec) + ": image path '" + path + "' " + why);
  };
  std::vector<std::string> paths;
  for (const LayerFile& file : spec.files) {
    const std::string& path = file.image_path;
    if (path.empty()) return refuse(path, "is empty");
    if (path.front() == '/') return refuse(path, "must be relative (no leading '/')");
    if (path.find('\0') != std::string::npos) return refuse(path, "holds a NUL byte");
    if (!IsValidUtf8(path)) return refuse(path, "is not UTF-8");
    size_t start = 0;
    for (;;) {
      size_t slash = path.find('/', start);
      std::string_view part = std::string_view(path).substr(
          start, slash == std::string::npos ? std::string::npos : slash - start);
      if (part.empty() || part == "." || part == "..") {
        return refuse(path, "has an empty, '.' or '..' component");
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (file.source_path.empty()) return refuse(path, "has no source file");
    paths.push_back(path);
  }
  std::sort(paths.begin(), paths.end());
  for (size_t i = 1; i < paths.size(); ++i) {
    if (paths[i] == paths[i - 1]) return refuse(paths[i], "appears twice");
  }
  // A file "a" and a file "a/b": "a" would have to be a folder too. Every
  // path under "a/" sorts after "a" and before "a0", so checking the next
  // path after each one is not enough; look the prefix up instead.
  for (const std::string& path : paths) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (std::binary_search(paths.begin(), paths.end(), path.substr(0, slash))) {
        return refuse(path, "is inside '" + path.substr(0, slash) + "', which is a file");
      }
    }
  }
  return Status::Ok();
}

uint64_t LayerSourceBytes(const LayerSpec& spec) {
  uint64_t total = 0;
  struct stat info;
  for (const LayerFile& file : spec.files) {
    if (stat(file.source_path.c_str(), &info) == 0) total += static_cast<uint64_t>(info.st_size);
  }
  return total;
}

StatusOr<LayerBlob> WriteLayer(const OciLayout& layout, const LayerSpec& spec, ByteReporter* bytes) {
  ScopedUtf8Locale locale;
  if (!locale.active()) {
    for (const LayerFile& file : spec.files) {
      if (!IsAscii(file.image_path)) {
        return Status(StatusCode::kFailedPrecondition,
                      LayerName(spec) + ": image path '" + file.image_path +
                          "' is not ASCII and the C.UTF-8 locale, needed to write it "
                          "reproducibly, is not installed");
      }
    }
  }
  std::string temporary;
  StatusOr<UniqueFd> fd = CreateTemporaryBlob(layout, &temporary);
  if (!fd.ok()) return fd.status();
  LayerBlob blob;
  Status status = [&]() -> Status {
    LayerWriter writer(spec, temporary, bytes);
    Status opened = writer.Open(fd->get());
    if (!opened.ok()) return opened;
    std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(kReadBufferSize);
    for (const Entry& entry : EntriesOf(spec)) {
      Status added = writer.Add(entry, buffer.get());
      if (!added.ok()) return added;
    }
    return writer.Close(&blob);
  }();
  if (status.ok() && fchmod(fd->get(), kBlobMode) != 0) {
    status = ErrnoStatus(errno, "cannot chmod", temporary);
  }
  if (status.ok() && close(fd->Release()) != 0) {
    status = ErrnoStatus(errno, "cannot write", temporary);
  }
  if (status.ok()) {
    if (layout.HasBlob(blob.digest, blob.size)) {
      blob.existed = true;  // never rewrite a blob: drop the copy just made
      unlink(temporary.c_str());
    } else if (rename(temporary.c_str(), layout.BlobPath(blob.digest).c_str()) != 0) {
      status = ErrnoStatus(errno, "cannot rename into place", layout.BlobPath(blob.digest));
    }
  }
  if (!status.ok()) {
    unlink(temporary.c_str());
    return status;
  }
  return blob;
}

}  // namespace amlc::runtime::image
