#include "runtime/workspace/workspace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace amlc::runtime {

namespace fs = std::filesystem;

std::string DefaultWorkspaceHome(const std::string& specs_dir, const std::string& override_home) {
  if (!override_home.empty()) return override_home;
  if (const char* env = std::getenv("AMLC_WORKSPACE"); env && *env) return env;
  fs::path specs(specs_dir);
  if (fs::is_regular_file(specs)) specs = specs.parent_path();
  return (specs / ".amlc").lexically_normal().string();
}

StatusOr<std::unique_ptr<Workspace>> Workspace::Open(const std::string& home) {
  std::error_code error;
  for (const char* sub : {"", "/datastore", "/datastore/snapshots", "/runs"}) {
    fs::create_directories(home + sub, error);
    if (error) {
      return Status(StatusCode::kFailedPrecondition,
                    "cannot create workspace folder '" + home + sub + "': " + error.message());
    }
  }
  auto workspace = std::unique_ptr<Workspace>(new Workspace());
  workspace->home_ = fs::absolute(home).lexically_normal().string();
  StatusOr<std::unique_ptr<StateStore>> state = OpenSqliteStore(workspace->home_ + "/state.db");
  if (!state.ok()) return state.status();
  workspace->state_ = std::move(state.value());
  workspace->snapshots_ = std::make_unique<SnapshotStore>(workspace->datastore() + "/snapshots");
  return workspace;
}

ApplyLock::~ApplyLock() {
  flock(fd_, LOCK_UN);
  close(fd_);
}

StatusOr<std::unique_ptr<ApplyLock>> ApplyLock::Acquire(const std::string& home,
                                                        double timeout_seconds,
                                                        void (*waiting)(long holder_pid)) {
  std::string path = home + "/apply.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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
