#ifndef AMLC_RUNTIME_STATE_SQLITE_STORE_INTERNAL_H_
#define AMLC_RUNTIME_STATE_SQLITE_STORE_INTERNAL_H_

// Helpers shared by the files that implement SqliteStore; not for other users.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "runtime/state/sqlite_connection.h"

namespace amlc::runtime::internal {

/// Binds a statement's parameters.
using Binder = std::function<void(Statement&)>;

/// Runs the cached statement `sql`, bound by `bind`, to completion.
inline Status Execute(SqliteConnection& connection, const std::string& sql, std::string_view doing,
                      const Binder& bind) {
  StatusOr<Statement> statement = connection.Prepare(sql, doing);
  if (!statement.ok()) return statement.status();
  bind(*statement);
  return statement->Run(doing);
}

/// Runs the cached query `sql`, bound by `bind`, and reads every row with
/// `read` (a callable from const Statement& to T).
template <typename T, typename Read>
StatusOr<std::vector<T>> Query(SqliteConnection& connection, const std::string& sql,
                               std::string_view doing, const Binder& bind, Read read) {
  StatusOr<Statement> statement = connection.Prepare(sql, doing);
  if (!statement.ok()) return statement.status();
  bind(*statement);
  std::vector<T> rows;
  for (;;) {
    StatusOr<bool> row = statement->Next(doing);
    if (!row.ok()) return row.status();
    if (!*row) return rows;
    rows.push_back(read(*statement));
  }
}

/// Like Query, for the first row only (none: nullopt).
template <typename T, typename Read>
StatusOr<std::optional<T>> QueryFirst(SqliteConnection& connection, const std::string& sql,
                                      std::string_view doing, const Binder& bind, Read read) {
  StatusOr<Statement> statement = connection.Prepare(sql, doing);
  if (!statement.ok()) return statement.status();
  bind(*statement);
  StatusOr<bool> row = statement->Next(doing);
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<T>();
  return std::optional<T>(read(*statement));
}

}  // namespace amlc::runtime::internal

#endif  // AMLC_RUNTIME_STATE_SQLITE_STORE_INTERNAL_H_
