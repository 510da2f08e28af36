#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_FILE_IO_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_FILE_IO_H_

// Small POSIX file helpers shared by the snapshot store's parts: owned file
// descriptors, errno-to-Status mapping, streaming SHA-256 and atomic writes.

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace amlc::runtime::snapshot {

/// Size of every read and write buffer: large enough that a typical source
/// file is read in one call, small enough to stay in cache.
inline constexpr size_t kBufferSize = 64 * 1024;

/// An owned file descriptor, closed when the object goes.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Gives up ownership.
  int Release();

 private:
  int fd_ = -1;
};

/// The Status for a failed system call: the code follows errno (ENOENT is
/// kNotFound, EACCES kFailedPrecondition, EIO and ENOSPC kUnavailable, ...)
/// and the message says "<action> '<path>': <strerror>".
Status ErrnoStatus(int error, std::string_view action, const std::string& path);

/// Streaming SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  /// The lower-case hex digest; the hasher is reset for the next input.
  std::string FinishHex();

 private:
  EVP_MD_CTX* context_;
};

/// Reads until `size` bytes or end of file (retrying EINTR and short reads);
/// returns the count read, below `size` only at end of file.
StatusOr<size_t> ReadFull(int fd, char* buffer, size_t size, const std::string& path);

/// Writes all of `data` (retrying EINTR and short writes).
Status WriteAll(int fd, std::string_view data, const std::string& path);

/// Creates `path` atomically: `produce` writes into a new temporary file in
/// the same folder, which is renamed to `path` only when `produce` and the
/// close succeed, so readers never see a partial file. The file gets exactly
/// `mode` (whatever the umask). An existing `path` is replaced. When the
/// folder is missing it is created.
Status WriteFileAtomically(const std::string& path, mode_t mode,
                           const std::function<Status(int fd)>& produce);

/// The whole contents of a (small) file.
StatusOr<std::string> ReadSmallFile(const std::string& path);

}  // namespace amlc::runtime::snapshot

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_FILE_IO_H_
