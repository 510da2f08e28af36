#ifndef AMLC_RUNTIME_STATE_STATE_COPY_H_
#define AMLC_RUNTIME_STATE_STATE_COPY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

/// The tables of the state store, in an order that copies each row after
/// the rows it refers to; the same in both backends' schemas.
const std::vector<std::string>& StateStoreTables();

/// Copies the SQLite store at `sqlite_path` (migrated to the current schema
/// first) into the PostgreSQL database at `postgres_url`: every row of every
/// table, ids, sequence positions and the state serial included, from one
/// snapshot of the source, in one transaction on the target, so it is
/// copied whole or not at all. The target must hold no amlc data yet (a new
/// database, or one only migrated): kFailedPrecondition, naming the table,
/// otherwise. Returns the rows copied per table, in StateStoreTables() order.
StatusOr<std::vector<std::pair<std::string, int64_t>>> CopySqliteStoreToPostgres(const std::string& sqlite_path,
                                                                                  const std::string& postgres_url);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_STATE_COPY_H_
