#ifndef AMLC_RUNTIME_STATE_POSTGRES_LOCK_H_
#define AMLC_RUNTIME_STATE_POSTGRES_LOCK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace amlc::runtime {

class PgConnection;

/// A session-level advisory lock in a PostgreSQL database (pg_advisory_lock),
/// held on a connection of its own for as long as this object lives: the
/// workspace lock of a workspace whose state is in PostgreSQL, which
/// processes on any machine share. A holder that dies loses its session, and
/// the server frees the lock at once, as the kernel frees an flock.
class PgAdvisoryLock {
 public:
  /// Takes lock `key` in the database at `url`, trying again every 100 ms
  /// for up to `timeout_seconds`; `waiting` is called once, when the lock is
  /// busy, with the holder's process id (0 when the holder is not an amlc).
  /// kUnavailable on timeout or when the server cannot be reached.
  static StatusOr<std::unique_ptr<PgAdvisoryLock>> Acquire(const std::string& url, int64_t key,
                                                           double timeout_seconds,
                                                           void (*waiting)(long holder_pid));
  ~PgAdvisoryLock();
  PgAdvisoryLock(const PgAdvisoryLock&) = delete;
  PgAdvisoryLock& operator=(const PgAdvisoryLock&) = delete;

 private:
  PgAdvisoryLock(std::unique_ptr<PgConnection> connection, int64_t key);
  std::unique_ptr<PgConnection> connection_;
  int64_t key_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_POSTGRES_LOCK_H_
