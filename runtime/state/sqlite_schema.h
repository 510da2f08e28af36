#ifndef AMLC_RUNTIME_STATE_SQLITE_SCHEMA_H_
#define AMLC_RUNTIME_STATE_SQLITE_SCHEMA_H_

#include "base/status.h"
#include "runtime/state/sqlite_connection.h"

namespace amlc::runtime {

/// The schema version this binary creates and understands: the number of
/// migration steps it knows.
int SqliteSchemaVersion();

/// The `PRAGMA application_id` of an amlc state store ("amlc" in ASCII), so a
/// store is recognizable (and other SQLite databases are not taken for one).
inline constexpr int kAmlcApplicationId = 0x616d6c63;

/// Brings the database of `connection` to `target_version`: applies each
/// missing migration step in its own transaction, from the stored version up;
/// a store already at or past the target is left as it is. Safe when several
/// processes open a new file at once: each step re-reads the version under the
/// write lock. kInternal when the file is another application's database or
/// was written by a newer amlc. A target below SqliteSchemaVersion() is for
/// tests that build a store as an older amlc left it.
Status MigrateSqliteSchema(SqliteConnection& connection,
                           int target_version = SqliteSchemaVersion());

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_SQLITE_SCHEMA_H_
