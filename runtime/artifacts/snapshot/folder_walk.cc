#include "runtime/artifacts/snapshot/folder_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>

#include "base/utf8.h"
#include "runtime/artifacts/snapshot/file_io.h"

// Implementation notes
//
// The walk goes through directory file descriptors (openat/fstatat with
// O_NOFOLLOW / AT_SYMLINK_NOFOLLOW) rather than whole paths: the kernel then
// resolves one name per call, which is what keeps an unchanged 10,000-file
// re-scan at stat speed, and a folder swapped for a symlink mid-walk is
// refused by the kernel instead of followed out of the tree.

namespace amlc::runtime::snapshot {
namespace {

// A path as shown in messages: bytes that are not printable ASCII become \xNN.
std::string Printable(std::string_view path) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : path) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

class Walker {
 public:
  Walker(const std::string& root, const WalkOptions& options) : root_(root), options_(options) {}

  StatusOr<std::vector<WalkedFile>> Run();

 private:
  Status VisitFolder(UniqueFd folder, const std::string& prefix);
  Status VisitEntry(int folder_fd, const std::string& name, const std::string& path);
  void RefuseSymlink(int folder_fd, const std::string& name, const std::string& path);
  bool IsSkippedFolder(const struct stat& info) const;

  const std::string& root_;
  const WalkOptions& options_;
  std::vector<WalkedFile> files_;
  std::vector<std::string> refused_;  // one phrase per offending path
};

StatusOr<std::vector<WalkedFile>> Walker::Run() {
  UniqueFd folder(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!folder.valid()) return ErrnoStatus(errno, "cannot open the folder", root_);
  Status status = VisitFolder(std::move(folder), "");
  if (!status.ok()) return status;
  if (!refused_.empty()) {
    std::string message = "cannot snapshot '" + root_ + "': ";
    for (size_t i = 0; i < refused_.size(); ++i) message += (i ? "; " : "") + refused_[i];
    message +=
        " (a snapshot holds regular files only: replace each with a copy of what it "
        "points to, rename it, or list it in .amlignore)";
    return Status(StatusCode::kInvalidArgument, message);
  }
  // Walking sorted names is not the same as sorting paths ("a-b" < "a/b").
  std::sort(files_.begin(), files_.end(),
            [](const WalkedFile& a, const WalkedFile& b) { return a.path < b.path; });
  return std::move(files_);
}

Status Walker::VisitFolder(UniqueFd folder, const std::string& prefix) {
  DirPtr dir(fdopendir(folder.get()));
  std::string shown = prefix.empty() ? root_ : root_ + "/" + prefix;
  if (!dir) return ErrnoStatus(errno, "cannot list the folder", shown);
  int folder_fd = folder.Release();  // now owned by `dir`
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(dir.get());
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    // Never part of a code snapshot: version control and amlc's own state.
    if (name == ".git" || name == ".amlc") continue;
    names.emplace_back(name);
  }
  if (errno != 0) return ErrnoStatus(errno, "cannot list the folder", shown);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    Status status = VisitEntry(folder_fd, name, prefix.empty() ? name : prefix + "/" + name);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status Walker::VisitEntry(int folder_fd, const std::string& name, const std::string& path) {
  struct stat info;
  if (fstatat(folder_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();  // deleted while we walk: not part of it
    return ErrnoStatus(errno, "cannot stat", root_ + "/" + path);
  }
  bool is_folder = S_ISDIR(info.st_mode);
  if (!options_.rules.empty() && options_.rules.IsIgnored(path, is_folder)) return Status::Ok();
  if (!IsValidUtf8(name)) {
    refused_.push_back("'" + Printable(path) + "' has a name that is not UTF-8");
  } else if (is_folder) {
    if (IsSkippedFolder(info)) return Status::Ok();
    UniqueFd child(
        openat(folder_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) return ErrnoStatus(errno, "cannot open the folder", root_ + "/" + path);
    return VisitFolder(std::move(child), path);
  } else if (S_ISREG(info.st_mode)) {
    WalkedFile file;
    file.path = path;
    file.size = static_cast<uint64_t>(info.st_size);
    file.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
    file.inode = info.st_ino;
    file.device = info.st_dev;
    file.executable = (info.st_mode & S_IXUSR) != 0;
    files_.push_back(std::move(file));
  } else if (S_ISLNK(info.st_mode)) {
    RefuseSymlink(folder_fd, name, path);
  } else {
    const char* kind = S_ISFIFO(info.st_mode)   ? "a fifo"
                       : S_ISSOCK(info.st_mode) ? "a socket"
                                                : "a device file";
    refused_.push_back("'" + Printable(path) + "' is " + kind);
  }
  return Status::Ok();
}

void Walker::RefuseSymlink(int folder_fd, const std::string& name, const std::string& path) {
  char buffer[4096];
  ssize_t length = readlinkat(folder_fd, name.c_str(), buffer, sizeof(buffer));
  std::string target = length < 0 ? "?" : std::string(buffer, static_cast<size_t>(length));
  // Decided on the text of the link: a chain of links is refused link by link.
  std::filesystem::path parent = std::filesystem::path(root_) / path;
  std::string resolved = (parent.parent_path() / target).lexically_normal().string();
  bool inside = resolved == root_ || resolved.rfind(root_ + "/", 0) == 0;
  refused_.push_back("'" + Printable(path) + "' is a symlink to '" + Printable(target) + "'" +
                     (inside ? "" : ", outside the folder"));
}

bool Walker::IsSkippedFolder(const struct stat& info) const {
  return options_.skip_folder && options_.skip_folder->device == info.st_dev &&
         options_.skip_folder->inode == info.st_ino;
}

}  // namespace

StatusOr<std::vector<WalkedFile>> WalkFolder(const std::string& root, const WalkOptions& options) {
  return Walker(root, options).Run();
}

StatusOr<IgnoreRules> LoadIgnoreRules(const std::string& root) {
  for (const char* name : {".amlignore", ".gitignore"}) {
    StatusOr<std::string> text = ReadSmallFile(root + "/" + name);
    if (text.ok()) return IgnoreRules::Parse(*text);
    if (text.status().code() != StatusCode::kNotFound) return text.status();
  }
  return IgnoreRules();
}

}  // namespace amlc::runtime::snapshot
