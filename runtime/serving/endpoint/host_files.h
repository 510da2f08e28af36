#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_HOST_FILES_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_HOST_FILES_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "base/status.h"

namespace amlc::runtime::endpoint {

/// Where an endpoint host keeps its files: the interface with the apply side.
struct HostPaths {
  explicit HostPaths(std::string dir) : dir(std::move(dir)) {}
  std::string dir;
  std::string desired() const { return dir + "/desired.json"; }
  std::string status() const { return dir + "/status.json"; }
  std::string events() const { return dir + "/events.jsonl"; }
  std::string log() const { return dir + "/endpoint-host.log"; }
  std::string pid_file() const { return dir + "/endpoint-host.pid"; }
  std::string replicas() const { return dir + "/replicas"; }
  /// DIR/replicas/<deployment>-<n> without an extension (.log, .port).
  std::string replica(const std::string& deployment, int index) const {
    return replicas() + "/" + deployment + "-" + std::to_string(index);
  }
};

/// Writes a file through a temporary and rename, so a reader polling it never
/// sees half of it.
Status WriteFileAtomically(const std::string& path, const std::string& contents);


/// Unix time in milliseconds.
int64_t UnixMillis();

/// Appends one JSON line per event to events.jsonl.
class EventLog {
 public:
  explicit EventLog(std::string path) : path_(std::move(path)) {}
  /// `from` and `to` are JSON texts (a number or a quoted string).
  void Append(const std::string& deployment, const std::string& event, const std::string& from,
              const std::string& to, const std::string& reason);

 private:
  std::mutex mutex_;
  std::string path_;
};

/// The host's own log: timestamped lines appended to endpoint-host.log.
class HostLog {
 public:
  explicit HostLog(std::string path) : path_(std::move(path)) {}
  void Write(const std::string& line);

 private:
  std::mutex mutex_;
  std::string path_;
};

/// The pid file and its lock: one host per state folder. The lock is an
/// flock held for the life of the process, so it vanishes with a crashed host
/// and never needs cleaning up.
class PidLock {
 public:
  PidLock() = default;
  ~PidLock();
  PidLock(const PidLock&) = delete;
  PidLock& operator=(const PidLock&) = delete;

  /// Takes the lock and writes this process's pid. kAlreadyExists, naming the
  /// running host's pid, when another host holds it.
  Status Acquire(const std::string& path);
  /// Removes the pid file, then lets go of the lock.
  void Release();
  /// Whether the pid file on disk is still the one locked: false once the
  /// state folder was deleted (or the file replaced), when the host has
  /// nothing left to serve.
  bool StillHeld() const;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_HOST_FILES_H_
