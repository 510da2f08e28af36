#ifndef AMLC_RUNTIME_STATE_POSTGRES_STORE_INTERNAL_H_
#define AMLC_RUNTIME_STATE_POSTGRES_STORE_INTERNAL_H_

// Helpers shared by the files that implement PostgresStore; not for other users.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "runtime/state/postgres_connection.h"

namespace amlc::runtime::internal {

/// Runs `sql` with `params`; only the Status matters.
inline Status PgExecute(PgConnection& connection, const std::string& sql, const PgParams& params,
                        std::string_view doing) {
  StatusOr<PgResult> result = connection.Exec(sql, params, doing);
  return result.ok() ? Status::Ok() : result.status();
}

/// Runs `sql` with `params` and reads every row with `read` (a callable from
/// const PgRow& to T).
template <typename T, typename Read>
StatusOr<std::vector<T>> PgQuery(PgConnection& connection, const std::string& sql, const PgParams& params,
                                 std::string_view doing, Read read) {
  StatusOr<PgResult> result = connection.Exec(sql, params, doing);
  if (!result.ok()) return result.status();
  std::vector<T> rows;
  rows.reserve(result->rows());
  for (int row = 0; row < result->rows(); ++row) rows.push_back(read(PgRow(*result, row)));
  return rows;
}

/// Like PgQuery, for the first row only (none: nullopt).
template <typename T, typename Read>
StatusOr<std::optional<T>> PgQueryFirst(PgConnection& connection, const std::string& sql, const PgParams& params,
                                        std::string_view doing, Read read) {
  StatusOr<PgResult> result = connection.Exec(sql, params, doing);
  if (!result.ok()) return result.status();
  if (result->rows() == 0) return std::optional<T>();
  return std::optional<T>(read(PgRow(*result, 0)));
}

/// kNotFound "state store WHERE: DOING: no such WHAT".
inline Status PgNoSuch(const PgConnection& connection, std::string_view doing, const std::string& what) {
  return Status(StatusCode::kNotFound,
                "state store " + connection.where() + ": " + std::string(doing) + ": no such " + what);
}

}  // namespace amlc::runtime::internal

#endif  // AMLC_RUNTIME_STATE_POSTGRES_STORE_INTERNAL_H_
