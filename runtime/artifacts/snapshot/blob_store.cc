#include "runtime/artifacts/snapshot/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime::snapshot {
namespace {

// Blobs are read-only so that a stray write through a copied path fails
// instead of silently changing every snapshot that shares the contents.
constexpr mode_t kBlobMode = 0444;

std::unique_ptr<char[]> NewBuffer() { return std::make_unique_for_overwrite<char[]>(kBufferSize); }

Status ChangedWhileReading(const std::string& path) {
  return Status(StatusCode::kUnavailable,
                "'" + path + "' changed while it was being snapshotted; try again");
}

}  // namespace

std::string BlobStore::PathOf(const std::string& digest) const {
  return root_ + "/blobs/sha256/" + digest.substr(0, 2) + "/" + digest;
}

bool BlobStore::Has(const std::string& digest, uint64_t size) const {
  struct stat info;
  return stat(PathOf(digest).c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         static_cast<uint64_t>(info.st_size) == size;
}

Status BlobStore::Put(const std::string& digest, std::string_view contents) const {
  std::string path = PathOf(digest);
  return WriteFileAtomically(path, kBlobMode, [&](int fd) { return WriteAll(fd, contents, path); });
}

Status BlobStore::PutFromFd(const std::string& digest, int fd,
                            const std::string& source_path) const {
  if (lseek(fd, 0, SEEK_SET) != 0) return ErrnoStatus(errno, "cannot seek", source_path);
  std::string path = PathOf(digest);
  return WriteFileAtomically(path, kBlobMode, [&](int out) -> Status {
    std::unique_ptr<char[]> buffer = NewBuffer();
    Sha256 hash;
    for (;;) {
      StatusOr<size_t> n = ReadFull(fd, buffer.get(), kBufferSize, source_path);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      hash.Update(buffer.get(), *n);
      Status written = WriteAll(out, std::string_view(buffer.get(), *n), path);
      if (!written.ok()) return written;
    }
    return hash.FinishHex() == digest ? Status::Ok() : ChangedWhileReading(source_path);
  });
}

Status BlobStore::Read(const std::string& digest, uint64_t size,
                       const std::function<Status(std::string_view chunk)>& sink) const {
  std::string path = PathOf(digest);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return Status(StatusCode::kNotFound, "the snapshot store lacks blob '" + path + "'");
    }
    return ErrnoStatus(errno, "cannot open", path);
  }
  std::unique_ptr<char[]> buffer = NewBuffer();
  Sha256 hash;
  uint64_t total = 0;
  for (;;) {
    StatusOr<size_t> n = ReadFull(fd.get(), buffer.get(), kBufferSize, path);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    hash.Update(buffer.get(), *n);
    total += *n;
    Status status = sink(std::string_view(buffer.get(), *n));
    if (!status.ok()) return status;
  }
  if (total != size || hash.FinishHex() != digest) {
    return Status(StatusCode::kInternal, "blob '" + path +
                                             "' is damaged (its contents no longer match its "
                                             "digest); take the snapshot again to restore it");
  }
  return Status::Ok();
}

StatusOr<std::string> DigestFd(int fd, const std::string& path, uint64_t* size) {
  std::unique_ptr<char[]> buffer = NewBuffer();
  Sha256 hash;
  uint64_t total = 0;
  for (;;) {
    StatusOr<size_t> n = ReadFull(fd, buffer.get(), kBufferSize, path);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    hash.Update(buffer.get(), *n);
    total += *n;
  }
  if (size != nullptr) *size = total;
  return hash.FinishHex();
}

namespace {

// Opens the file the walk found, refusing a different file now at that path.
StatusOr<UniqueFd> OpenWalkedFile(const std::string& path, const WalkedFile& expected) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ELOOP) return ChangedWhileReading(path);
    return ErrnoStatus(errno, "cannot open", path);
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (!S_ISREG(info.st_mode) || info.st_ino != expected.inode || info.st_dev != expected.device) {
    return ChangedWhileReading(path);
  }
  return fd;
}

}  // namespace

StatusOr<IngestResult> IngestFile(const std::string& path, const WalkedFile& expected,
                                  const BlobStore* blobs) {
  StatusOr<UniqueFd> fd = OpenWalkedFile(path, expected);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<char[]> buffer = NewBuffer();
  StatusOr<size_t> first = ReadFull(fd->get(), buffer.get(), kBufferSize, path);
  if (!first.ok()) return first.status();
  IngestResult result;
  if (*first < kBufferSize) {  // the whole file is in memory: one read serves both
    if (*first != expected.size) return ChangedWhileReading(path);
    std::string_view contents(buffer.get(), *first);
    Sha256 hash;
    hash.Update(contents.data(), contents.size());
    result.digest = hash.FinishHex();
    if (blobs != nullptr && !blobs->Has(result.digest, contents.size())) {
      Status put = blobs->Put(result.digest, contents);
      if (!put.ok()) return put;
      result.blob_written = true;
    }
    return result;
  }
  if (lseek(fd->get(), 0, SEEK_SET) != 0) return ErrnoStatus(errno, "cannot seek", path);
  uint64_t size = 0;
  StatusOr<std::string> digest = DigestFd(fd->get(), path, &size);
  if (!digest.ok()) return digest.status();
  if (size != expected.size) return ChangedWhileReading(path);
  result.digest = *digest;
  if (blobs != nullptr && !blobs->Has(result.digest, size)) {
    Status put = blobs->PutFromFd(result.digest, fd->get(), path);
    if (!put.ok()) return put;
    result.blob_written = true;
  }
  return result;
}

}  // namespace amlc::runtime::snapshot
