#include "runtime/artifacts/snapshot/file_io.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace amlc::runtime::snapshot {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Status ErrnoStatus(int error, std::string_view action, const std::string& path) {
  StatusCode code = StatusCode::kInternal;
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      code = StatusCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
    case ELOOP:
    case EISDIR:
      code = StatusCode::kFailedPrecondition;
      break;
    case EEXIST:
    case ENOTEMPTY:
      code = StatusCode::kAlreadyExists;
      break;
    case EIO:
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
    case EBUSY:
    case ESTALE:
      // Transient or fixable by the operator without changing the request.
      code = StatusCode::kUnavailable;
      break;
    default:
      break;
  }
  return Status(code, std::string(action) + " '" + path + "': " + std::strerror(error));
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(context_, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::Update(const void* data, size_t size) { EVP_DigestUpdate(context_, data, size); }

std::string Sha256::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_, digest, &length);
  EVP_DigestInit_ex(context_, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

StatusOr<size_t> ReadFull(int fd, char* buffer, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, buffer + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

namespace {

// A name no other writer (thread or process) picks at the same time; O_EXCL
// catches the rest.
std::string TemporaryName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  return path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(random() % 1000000);
}

// Opens a fresh temporary file beside `path`, creating the folder on demand.
StatusOr<UniqueFd> CreateTemporary(const std::string& path, std::string* temp_path) {
  for (int attempt = 0;; ++attempt) {
    *temp_path = TemporaryName(path);
    int fd = open(temp_path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) return UniqueFd(fd);
    if (errno == ENOENT && attempt == 0) {
      std::error_code error;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
      if (error) return ErrnoStatus(error.value(), "cannot create the folder of", path);
      continue;
    }
    if (errno == EEXIST && attempt < 3) continue;
    return ErrnoStatus(errno, "cannot create", *temp_path);
  }
}

}  // namespace

Status WriteFileAtomically(const std::string& path, mode_t mode,
                           const std::function<Status(int fd)>& produce) {
  std::string temp_path;
  StatusOr<UniqueFd> fd = CreateTemporary(path, &temp_path);
  if (!fd.ok()) return fd.status();
  Status status = produce(fd->get());
  if (status.ok() && fchmod(fd->get(), mode) != 0) {
    status = ErrnoStatus(errno, "cannot chmod", temp_path);
  }
  if (status.ok() && close(fd->Release()) != 0) {
    status = ErrnoStatus(errno, "cannot write", temp_path);
  }
  if (status.ok() && rename(temp_path.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "cannot rename into place", path);
  }
  if (!status.ok()) unlink(temp_path.c_str());
  return status;
}

StatusOr<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "cannot open", path);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus(errno, "cannot stat", path);
  std::string contents(static_cast<size_t>(info.st_size), '\0');
  StatusOr<size_t> read = ReadFull(fd.get(), contents.data(), contents.size(), path);
  if (!read.ok()) return read.status();
  contents.resize(*read);
  return contents;
}

}  // namespace amlc::runtime::snapshot
