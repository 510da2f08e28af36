#ifndef AMLC_RUNTIME_WORKSPACE_WORKSPACE_H_
#define AMLC_RUNTIME_WORKSPACE_WORKSPACE_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/snapshot/snapshot_store.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime {

/// A workspace's home folder: the state store, the default datastore (run
/// outputs, snapshots), run folders and logs. By default `.amlc/` beside the
/// specs; `--workspace DIR` or AMLC_WORKSPACE points elsewhere. The state
/// store is HOME/state.db (SQLite) unless the workspace setting HOME/state.url
/// names a PostgreSQL database (WorkspaceStateLocation).
class Workspace {
 public:
  /// Opens (creating on first use) the home folder and its state store.
  /// The home, its folders and state.db are owner-only (0700/0600) whatever
  /// the umask; an existing one of this user that others could read is
  /// narrowed to that, and notes() says so.
  static StatusOr<std::unique_ptr<Workspace>> Open(const std::string& home);

  /// What opening changed that the user should hear of ("" lines none).
  const std::vector<std::string>& notes() const { return notes_; }

  const std::string& home() const { return home_; }
  StateStore& state() { return *state_; }
  /// Where the state store is: HOME/state.db, or the PostgreSQL URL.
  const std::string& state_location() const { return state_location_; }
  SnapshotStore& snapshots() { return *snapshots_; }
  /// The default datastore's folder.
  std::string datastore() const { return home_ + "/datastore"; }
  /// A run's own folder (logs, tracking file, exit code).
  std::string run_dir(const std::string& run_id) const { return home_ + "/runs/" + run_id; }
  /// Where a run's collected outputs live in the datastore.
  std::string run_outputs(const std::string& run_id) const {
    return datastore() + "/runs/" + run_id + "/outputs";
  }

 private:
  std::string home_;
  std::string state_location_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::vector<std::string> notes_;
};

/// The home folder for specs in `specs_dir`: `override` when given, else
/// $AMLC_WORKSPACE, else SPECS_DIR/.amlc.
std::string DefaultWorkspaceHome(const std::string& specs_dir, const std::string& override_home);

/// The workspace setting that moves a workspace's state into PostgreSQL:
/// HOME/state.url, whose first line is a postgresql:// URL.
inline std::string StateUrlSettingPath(const std::string& home) { return home + "/state.url"; }

/// Where the state store of the workspace at `home` is: the URL in
/// HOME/state.url when there is one, else the SQLite file HOME/state.db.
/// kInvalidArgument (file:line, what to write) when the setting holds
/// anything but a postgresql:// or postgres:// URL.
StatusOr<std::string> WorkspaceStateLocation(const std::string& home);

class PgAdvisoryLock;

/// Held while an apply runs: one apply per workspace at a time. An flock on
/// home/apply.lock, so a lock left by a process that died is free again at
/// once; the file names the holder's pid for the waiting message. When the
/// workspace's state is in PostgreSQL, an advisory lock in that database
/// instead (PgAdvisoryLock), which processes on every machine see.
class ApplyLock {
 public:
  ~ApplyLock();
  ApplyLock(const ApplyLock&) = delete;
  ApplyLock& operator=(const ApplyLock&) = delete;

  /// Takes the lock, waiting up to `timeout_seconds`; `waiting` is called once
  /// with the holder's pid when the lock is busy. kUnavailable on timeout.
  static StatusOr<std::unique_ptr<ApplyLock>> Acquire(const std::string& home,
                                                      double timeout_seconds,
                                                      void (*waiting)(long holder_pid));

 private:
  explicit ApplyLock(int fd);
  explicit ApplyLock(std::unique_ptr<PgAdvisoryLock> shared);
  int fd_ = -1;
  std::unique_ptr<PgAdvisoryLock> shared_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_WORKSPACE_H_
