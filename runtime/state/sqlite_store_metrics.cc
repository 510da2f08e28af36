// SqliteStore's metrics: the store's one hot path, since a training script may
// log millions of points. (The implementation notes at the top of
// sqlite_store.cc hold here too.)
//
// Implementation notes: AppendMetrics works per batch, not per point, all in
// one transaction:
//  1. group the points by series (run id, name), keeping log order within each;
//  2. one upsert per series gives its id and the seq of its first new point,
//     and adds the batch's count to the series;
//  3. sort each series' points by (step, ts) unless they already are (a
//     training loop logs steps in order), so the inserts go through the
//     b-tree left to right and touch each page once;
//  4. insert kRowsPerInsert points per statement execution (multi-row VALUES
//     runs the per-statement work once per 64 points), reusing that statement,
//     and a one-row statement for the rest.
// bench/metrics_bench.md has the numbers behind these choices.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/state/metric_batch.h"
#include "runtime/state/sqlite_store.h"
#include "runtime/state/record_rows.h"
#include "runtime/state/sqlite_store_internal.h"

namespace amlc::runtime {

using internal::GroupBySeries;
using internal::Placed;
using internal::PlacePoints;
using internal::Query;
using internal::Series;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

constexpr int kRowsPerInsert = 64;
constexpr int kColumnsPerPoint = 6;

constexpr const char* kInsertOnePoint =
    "INSERT OR FAIL INTO metric_points (series_id, step, ts, seq, value, text) "
    "VALUES (?, ?, ?, ?, ?, ?)";

const std::string& InsertManyPointsSql() {
  static const std::string sql = [] {
    std::string text =
        "INSERT OR FAIL INTO metric_points (series_id, step, ts, seq, value, text) VALUES ";
    for (int row = 0; row < kRowsPerInsert; ++row) {
      text += row == 0 ? "(?,?,?,?,?,?)" : ",(?,?,?,?,?,?)";
    }
    return text;
  }();
  return sql;
}

// Creates the series that are new, counts the batch's points into each, and
// fills in their ids and first seqs. A series of a run that is not recorded
// fails its foreign key: kFailedPrecondition.
Status ResolveSeries(SqliteConnection& connection, std::vector<Series>& series,
                     std::string_view doing) {
  for (Series& one : series) {
    StatusOr<Statement> upsert = connection.Prepare(
        "INSERT INTO metric_series (run_id, name, points) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (run_id, name) DO UPDATE SET points = points + excluded.points "
        "RETURNING id, points",
        doing);
    if (!upsert.ok()) return upsert.status();
    upsert->Bind(1, one.run_id).Bind(2, one.name).Bind(3, one.count);
    StatusOr<bool> row = upsert->Next(doing);
    if (!row.ok() && row.status().code() == StatusCode::kFailedPrecondition) {
      return Status(StatusCode::kFailedPrecondition,
                    "state store " + connection.path() + ": " + std::string(doing) + ": run '" +
                        std::string(one.run_id) + "' is not recorded; record it (InsertRun) first");
    }
    if (!row.ok()) return row.status();
    if (!*row) {  // RETURNING gives a row for an insert and for an update alike
      return Status(StatusCode::kInternal, "state store " + connection.path() + ": " +
                                               std::string(doing) + ": no series row returned");
    }
    one.id = upsert->Int(0);
    one.first_seq = upsert->Int(1) - one.count;
  }
  return Status::Ok();
}

// Binds `placed` as row `row` (0-based) of an insert statement.
void BindPoint(Statement& insert, int row, const Placed& placed) {
  int base = row * kColumnsPerPoint;
  // A NaN value binds as NULL (SQLite has no NaN); ReadPoint<Statement> turns it back.
  insert.Bind(base + 1, placed.series_id).Bind(base + 2, placed.point->step);
  insert.Bind(base + 3, placed.point->timestamp).Bind(base + 4, placed.seq);
  insert.Bind(base + 5, placed.point->value).Bind(base + 6, placed.point->text);
}

Status InsertPoints(SqliteConnection& connection, const std::vector<Placed>& placed,
                    std::string_view doing) {
  size_t at = 0;
  if (placed.size() >= kRowsPerInsert) {
    StatusOr<Statement> many = connection.Prepare(InsertManyPointsSql(), doing);
    if (!many.ok()) return many.status();
    for (; at + kRowsPerInsert <= placed.size(); at += kRowsPerInsert) {
      for (int row = 0; row < kRowsPerInsert; ++row) BindPoint(*many, row, placed[at + row]);
      if (Status status = many->Run(doing); !status.ok()) return status;
      many->Reset();
    }
  }
  if (at == placed.size()) return Status::Ok();
  StatusOr<Statement> one = connection.Prepare(kInsertOnePoint, doing);
  if (!one.ok()) return one.status();
  for (; at < placed.size(); ++at) {
    BindPoint(*one, 0, placed[at]);
    if (Status status = one->Run(doing); !status.ok()) return status;
    one->Reset();
  }
  return Status::Ok();
}

// Stores `points` inside the caller's transaction.
Status StorePoints(SqliteConnection& connection, const std::vector<MetricPoint>& points, std::vector<Series>& series,
                   const std::vector<uint32_t>& series_of, std::string_view doing) {
  if (Status status = ResolveSeries(connection, series, doing); !status.ok()) return status;
  std::vector<Placed> placed = PlacePoints(points, series_of, series);
  return InsertPoints(connection, placed, doing);
}

}  // namespace

Status SqliteStore::AppendMetrics(const std::vector<MetricPoint>& points) {
  if (points.empty()) return Status::Ok();
  std::vector<uint32_t> series_of;
  std::vector<Series> series = GroupBySeries(points, &series_of);
  std::string doing = internal::DescribeBatch(points, series);

  std::lock_guard lock(mutex_);
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  if (Status status = StorePoints(*connection_, points, series, series_of, doing); !status.ok()) return status;
  return transaction.Commit(doing);
}

StatusOr<bool> SqliteStore::AppendMetricsBatch(const std::string& run_id, const std::string& batch,
                                               const std::vector<MetricPoint>& points) {
  std::vector<uint32_t> series_of;
  std::vector<Series> series = GroupBySeries(points, &series_of);
  std::string doing = "storing metrics batch " + batch + " of run " + run_id;

  std::lock_guard lock(mutex_);
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  Status noted = internal::Execute(
      *connection_, "INSERT INTO metric_batches (run_id, batch, points) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
      doing, [&](Statement& s) { s.Bind(1, run_id).Bind(2, batch).Bind(3, static_cast<int64_t>(points.size())); });
  if (!noted.ok()) return noted;
  if (connection_->Changes() == 0) return false;  // stored before; the transaction ends unchanged
  if (Status status = StorePoints(*connection_, points, series, series_of, doing); !status.ok()) return status;
  if (Status status = transaction.Commit(doing); !status.ok()) return status;
  return true;
}

StatusOr<std::vector<MetricPoint>> SqliteStore::Metrics(const std::string& run_id,
                                                        const std::string& name) {
  // Series come in name order from UNIQUE (run_id, name), and points in
  // (step, ts, seq) order from their key: no sort.
  std::string sql = std::string("SELECT ") + kPointColumns +
                    " FROM metric_series AS s JOIN metric_points AS p ON p.series_id = s.id"
                    " WHERE s.run_id = ?1" +
                    (name.empty() ? "" : " AND s.name = ?2") +
                    " ORDER BY s.name, p.step, p.ts, p.seq";
  std::lock_guard lock(mutex_);
  return Query<MetricPoint>(
      *connection_, sql, "reading the metrics of run " + run_id,
      [&](Statement& s) {
        s.Bind(1, run_id);
        if (!name.empty()) s.Bind(2, name);
      },
      ReadPoint<Statement>);
}

StatusOr<std::vector<MetricPoint>> SqliteStore::LatestMetrics(const std::string& run_id) {
  // Per series, the subquery reads the key of the last point from the end of
  // the series' key range, and the join seeks to that one point.
  static const std::string kSql =
      std::string("SELECT ") + kPointColumns +
      " FROM metric_series AS s JOIN metric_points AS p ON p.series_id = s.id"
      " WHERE s.run_id = ?1 AND (p.step, p.ts, p.seq) = ("
      "   SELECT step, ts, seq FROM metric_points WHERE series_id = s.id"
      "   ORDER BY step DESC, ts DESC, seq DESC LIMIT 1)"
      " ORDER BY s.name";
  std::lock_guard lock(mutex_);
  return Query<MetricPoint>(
      *connection_, kSql, "reading the latest metrics of run " + run_id,
      [&](Statement& s) { s.Bind(1, run_id); }, ReadPoint<Statement>);
}

}  // namespace amlc::runtime
