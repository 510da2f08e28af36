#ifndef AMLC_RUNTIME_STATE_POSTGRES_SCHEMA_H_
#define AMLC_RUNTIME_STATE_POSTGRES_SCHEMA_H_

#include "base/status.h"
#include "runtime/state/postgres_connection.h"

namespace amlc::runtime {

/// The schema version this binary creates and understands in PostgreSQL: the
/// same steps, in the same order, as the SQLite store's (SqliteSchemaVersion()).
int PostgresSchemaVersion();

/// Brings the database of `connection` to `target_version`, one step per
/// transaction, each recorded as a row of schema_migrations (version,
/// summary, applied_at). Each step takes a transaction-scoped advisory lock
/// and re-reads the version under it, so processes opening a new database at
/// once apply every step once. kInternal when the database holds tables but no
/// schema_migrations (another application's), or a version newer than this
/// binary knows.
Status MigratePostgresSchema(PgConnection& connection, int target_version = PostgresSchemaVersion());

/// The advisory lock keys amlc takes in a workspace's database ("amlc" in
/// ASCII, then what for), so they do not collide with another application's.
inline constexpr int64_t kPostgresMigrationLock = 0x616d6c6300000001;
inline constexpr int64_t kPostgresApplyLock = 0x616d6c6300000002;

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_POSTGRES_SCHEMA_H_
