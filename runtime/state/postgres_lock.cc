#include "runtime/state/postgres_lock.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "runtime/state/postgres_connection.h"

namespace amlc::runtime {
namespace {

// How a lock connection names itself, so a waiter can say who holds the lock.
constexpr const char* kHolderPrefix = "amlc pid ";

// The process id of the amlc holding `key`, from its connection's
// application_name; 0 when unknown.
long HolderPid(PgConnection& connection, int64_t key) {
  auto holder = connection.Exec(
      "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
      "(SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
      PgParams().Add(key), "looking up who holds the workspace lock");
  if (!holder.ok() || holder->rows() == 0) return 0;
  std::string name = holder->Text(0, 0);
  if (name.rfind(kHolderPrefix, 0) != 0) return 0;
  return std::strtol(name.c_str() + std::string(kHolderPrefix).size(), nullptr, 10);
}

}  // namespace

StatusOr<std::unique_ptr<PgAdvisoryLock>> PgAdvisoryLock::Acquire(const std::string& url, int64_t key,
                                                                  double timeout_seconds,
                                                                  void (*waiting)(long holder_pid)) {
  StatusOr<std::unique_ptr<PgConnection>> connection = PgConnection::Open(url);
  if (!connection.ok()) return connection.status();
  PgConnection& session = **connection;
  session.KeepSession();
  std::string name = kHolderPrefix + std::to_string(getpid());
  if (Status status = session.ExecScript(("SET application_name = '" + name + "'").c_str(), "naming the lock's session");
      !status.ok()) {
    return status;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  bool told = false;
  for (;;) {
    auto taken = session.Exec("SELECT pg_try_advisory_lock($1)", PgParams().Add(key), "taking the workspace lock");
    if (!taken.ok()) return taken.status();
    if (taken->Int(0, 0) != 0) break;
    if (!told && waiting != nullptr) {
      waiting(HolderPid(session, key));
      told = true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(StatusCode::kUnavailable,
                    "another apply holds the workspace lock (advisory lock in " + session.where() + "); gave up after " +
                        std::to_string(static_cast<int>(timeout_seconds)) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::unique_ptr<PgAdvisoryLock>(new PgAdvisoryLock(std::move(*connection), key));
}

PgAdvisoryLock::PgAdvisoryLock(std::unique_ptr<PgConnection> connection, int64_t key)
    : connection_(std::move(connection)), key_(key) {}

PgAdvisoryLock::~PgAdvisoryLock() {
  // Closing the session frees the lock too; unlocking first says so at once
  // even if the close is slow.
  (void)connection_->Exec("SELECT pg_advisory_unlock($1)", PgParams().Add(key_), "releasing the workspace lock");
}

}  // namespace amlc::runtime
