#include "runtime/serving/endpoint/host_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/time.h"

namespace amlc::runtime::endpoint {

// The endpoint host's name for the one clock (base/clock.h), so that tests
// that set a clock see it in events and status files too.
int64_t UnixMillis() { return NowMillis(); }

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush()) return Status(StatusCode::kUnavailable, "cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status(StatusCode::kUnavailable, "cannot rename " + temporary + " to " + path + ": " +
                                                std::strerror(errno));
  }
  return Status::Ok();
}

void EventLog::Append(const std::string& deployment, const std::string& event,
                      const std::string& from, const std::string& to, const std::string& reason) {
  nlohmann::json line = {{"time", UnixMillis()},
                         {"deployment", deployment},
                         {"event", event},
                         {"from", nlohmann::json::parse(from, nullptr, false)},
                         {"to", nlohmann::json::parse(to, nullptr, false)},
                         {"reason", reason}};
  std::lock_guard<std::mutex> lock(mutex_);
  std::ofstream(path_, std::ios::app) << line.dump() << "\n";
}

void HostLog::Write(const std::string& line) {
  // UTC, as every other log and record amlc writes, so the lines of hosts on
  // machines in different time zones sort together.
  std::string stamp = FormatUtcTime(NowMillis(), "%Y-%m-%dT%H:%M:%SZ");
  std::lock_guard<std::mutex> lock(mutex_);
  std::ofstream(path_, std::ios::app) << stamp << " " << line << "\n";
}

PidLock::~PidLock() { Release(); }

Status PidLock::Acquire(const std::string& path) {
  // O_CLOEXEC: a replica that inherited the descriptor would hold the lock
  // after the host is gone.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(StatusCode::kUnavailable, "cannot open " + path + ": " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char text[32] = {0};
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    std::string pid = n > 0 ? std::string(text, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status(StatusCode::kAlreadyExists,
                  "another endpoint host (pid " + pid + ") is already running for this state "
                  "folder (" + path + " is locked); stop it with kill -TERM " + pid);
  }
  std::string text = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) < 0) {
    close(fd);
    return Status(StatusCode::kUnavailable, "cannot write " + path + ": " + std::strerror(errno));
  }
  path_ = path;
  fd_ = fd;
  return Status::Ok();
}

bool PidLock::StillHeld() const {
  struct stat held {}, on_disk {};
  if (fd_ < 0 || fstat(fd_, &held) != 0 || stat(path_.c_str(), &on_disk) != 0) return false;
  return held.st_ino == on_disk.st_ino && held.st_dev == on_disk.st_dev;
}

void PidLock::Release() {
  if (fd_ < 0) return;
  unlink(path_.c_str());
  close(fd_);
  fd_ = -1;
}

}  // namespace amlc::runtime::endpoint
