#include "runtime/workspace/workspace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_lock.h"
#include "runtime/state/postgres_schema.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

std::string DefaultWorkspaceHome(const std::string& specs_dir, const std::string& override_home) {
  if (!override_home.empty()) return override_home;
  if (const char* env = std::getenv("AMLC_WORKSPACE"); env && *env) return env;
  fs::path specs(specs_dir);
  if (fs::is_regular_file(specs)) specs = specs.parent_path();
  return (specs / ".amlc").lexically_normal().string();
}

namespace {

std::string ModeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Narrows `path` to `mode` when its owner is this user and others may get
// in; returns a note saying so, or "" when nothing changed.
std::string Tighten(const std::string& path, mode_t mode) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0 || info.st_uid != geteuid() || S_ISLNK(info.st_mode)) return "";
  if ((info.st_mode & 0077) == 0) return "";
  if (chmod(path.c_str(), mode) != 0) return "";
  return path + " (was " + ModeText(info.st_mode) + ")";
}

// The home and the folders amlc keeps in it, created owner-only whatever
// the umask (chmod after mkdir); an existing home of this user that others
// could enter is narrowed, with a note.
Status MakePrivateFolders(const std::string& home, std::vector<std::string>& tightened) {
  std::error_code error;
  for (const char* sub : {"", "/datastore", "/datastore/snapshots", "/runs"}) {
    std::string folder = home + sub;
    bool existed = fs::is_directory(folder, error);
    fs::create_directories(folder, error);
    if (error) {
      return Status(StatusCode::kFailedPrecondition,
                    "cannot create workspace folder '" + folder + "': " + error.message());
    }
    if (!existed) {
      chmod(folder.c_str(), 0700);
    } else if (std::string note = Tighten(folder, 0700); !note.empty()) {
      tightened.push_back(note);
    }
  }
  return Status::Ok();
}

// state.db holds environment values and request bodies: created 0600 before
// SQLite opens it (its -wal and -shm files take the database's mode).
void MakePrivateStateFile(const std::string& path, std::vector<std::string>& tightened) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    fchmod(fd, 0600);
    close(fd);
    return;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (std::string note = Tighten(path + suffix, 0600); !note.empty()) tightened.push_back(note);
  }
}

}  // namespace

StatusOr<std::string> WorkspaceStateLocation(const std::string& home) {
  std::string setting = StateUrlSettingPath(home);
  std::ifstream file(setting);
  if (!file) return home + "/state.db";
  std::string url;
  std::getline(file, url);
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.front()))) url.erase(0, 1);
  if (!IsPostgresUrl(url)) {
    return Status(StatusCode::kInvalidArgument,
                  setting + ":1: '" + RedactPostgresUrl(url) +
                      "' is not a PostgreSQL URL; write e.g. postgresql://amlc@db.example:5432/amlc, or remove the "
                      "file to keep the state in " + home + "/state.db");
  }
  return url;
}

StatusOr<std::unique_ptr<Workspace>> Workspace::Open(const std::string& home) {
  std::vector<std::string> tightened;
  if (Status made = MakePrivateFolders(home, tightened); !made.ok()) return made;
  auto workspace = std::unique_ptr<Workspace>(new Workspace());
  workspace->home_ = fs::absolute(home).lexically_normal().string();
  MakePrivateStateFile(workspace->home_ + "/state.db", tightened);
  if (!tightened.empty()) {
    std::string list;
    for (const std::string& path : tightened) list += (list.empty() ? "" : ", ") + path;
    workspace->notes_.push_back("made owner-only, as workspace files are by default: " + list +
                                " (they hold environment values, request bodies and keys)");
  }
  StatusOr<std::string> location = WorkspaceStateLocation(workspace->home_);
  if (!location.ok()) return location.status();
  workspace->state_location_ = *location;
  StatusOr<std::unique_ptr<StateStore>> state = OpenStateStore(*location);
  if (!state.ok()) return state.status();
  workspace->state_ = std::move(state.value());
  workspace->snapshots_ = std::make_unique<SnapshotStore>(workspace->datastore() + "/snapshots");
  return workspace;
}

ApplyLock::ApplyLock(int fd) : fd_(fd) {}
ApplyLock::ApplyLock(std::unique_ptr<PgAdvisoryLock> shared) : shared_(std::move(shared)) {}

ApplyLock::~ApplyLock() {
  if (fd_ < 0) return;
  flock(fd_, LOCK_UN);
  close(fd_);
}

StatusOr<std::unique_ptr<ApplyLock>> ApplyLock::Acquire(const std::string& home,
                                                        double timeout_seconds,
                                                        void (*waiting)(long holder_pid)) {
  StatusOr<std::string> location = WorkspaceStateLocation(home);
  if (!location.ok()) return location.status();
  if (IsPostgresUrl(*location)) {
    auto shared = PgAdvisoryLock::Acquire(*location, kPostgresApplyLock, timeout_seconds, waiting);
    if (!shared.ok()) return shared.status();
    return std::unique_ptr<ApplyLock>(new ApplyLock(std::move(*shared)));
  }
  std::string path = home + "/apply.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status(StatusCode::kFailedPrecondition, "cannot open " + path);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  bool told = false;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (!told && waiting) {
      char buffer[32] = {0};
      ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
      waiting(n > 0 ? std::strtol(buffer, nullptr, 10) : 0);
      told = true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      close(fd);
      return Status(StatusCode::kUnavailable,
                    "another apply holds the workspace lock (" + path + "); gave up after " +
                        std::to_string(static_cast<int>(timeout_seconds)) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the waiting message; the flock is what counts.
  }
  return std::unique_ptr<ApplyLock>(new ApplyLock(fd));
}

}  // namespace amlc::runtime
