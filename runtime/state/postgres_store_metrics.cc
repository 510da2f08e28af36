// PostgresStore's metrics. (The implementation notes at the top of
// postgres_store.cc hold here too.)
//
// Implementation notes: a batch is laid out as in the SQLite store
// (metric_batch.h): one upsert per series gives its id and first seq, then
// all its points go in with ONE statement, whatever the batch's size: six
// arrays (one per column) that unnest() turns into rows. One round trip and
// one plan per batch, where a statement per point or per 64 points would pay
// the network's latency for each. Series are upserted in (run, name) order so
// that two batches touching the same series lock them in the same order and
// cannot deadlock.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "runtime/state/metric_batch.h"
#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_store.h"
#include "runtime/state/postgres_store_internal.h"
#include "runtime/state/record_rows.h"

namespace amlc::runtime {

using internal::PgQuery;
using internal::Placed;
using internal::Series;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

Status ResolveSeries(PgConnection& connection, std::vector<Series>& series, std::string_view doing) {
  std::vector<size_t> order(series.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(series[a].run_id, series[a].name) < std::tie(series[b].run_id, series[b].name);
  });
  for (size_t index : order) {
    Series& one = series[index];
    StatusOr<PgResult> row = connection.Exec(
        "INSERT INTO metric_series (run_id, name, points) VALUES ($1, $2, $3) "
        "ON CONFLICT (run_id, name) DO UPDATE SET points = metric_series.points + excluded.points "
        "RETURNING id, points",
        PgParams().Add(one.run_id).Add(one.name).Add(one.count), doing);
    if (!row.ok() && row.status().code() == StatusCode::kFailedPrecondition) {
      return Status(StatusCode::kFailedPrecondition,
                    "state store " + connection.where() + ": " + std::string(doing) + ": run '" +
                        std::string(one.run_id) + "' is not recorded; record it (InsertRun) first");
    }
    if (!row.ok()) return row.status();
    one.id = row->Int(0, 0);
    one.first_seq = row->Int(0, 1) - one.count;
  }
  return Status::Ok();
}

// An array literal element: numbers as they are, text quoted with its
// quotes and backslashes escaped.
void AppendQuoted(std::string& array, std::string_view text) {
  array += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') array += '\\';
    array += c;
  }
  array += '"';
}

// The six column arrays of the placed points, as PostgreSQL array literals.
PgParams PointArrays(const std::vector<Placed>& placed) {
  std::string series = "{", steps = "{", times = "{", seqs = "{", values = "{", texts = "{";
  for (size_t i = 0; i < placed.size(); ++i) {
    const char* comma = i == 0 ? "" : ",";
    const MetricPoint& point = *placed[i].point;
    series += comma + std::to_string(placed[i].series_id);
    steps += comma + std::to_string(point.step);
    times += comma + std::to_string(point.timestamp);
    seqs += comma + std::to_string(placed[i].seq);
    values += comma;
    // NaN goes in as NULL, as the SQLite store keeps it; PgParams spells the rest.
    values += std::isnan(point.value) ? "NULL" : *PgParams().Add(point.value).values().front();
    texts += comma;
    AppendQuoted(texts, point.text);
  }
  PgParams params;
  for (std::string* array : {&series, &steps, &times, &seqs, &values, &texts}) {
    *array += '}';
    params.Add(*array);
  }
  return params;
}

Status StorePoints(PgConnection& connection, const std::vector<MetricPoint>& points, std::vector<Series>& series,
                   const std::vector<uint32_t>& series_of, std::string_view doing) {
  if (Status status = ResolveSeries(connection, series, doing); !status.ok()) return status;
  std::vector<Placed> placed = internal::PlacePoints(points, series_of, series);
  return internal::PgExecute(connection,
                             "INSERT INTO metric_points (series_id, step, ts, seq, value, text) "
                             "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], "
                             "$5::double precision[], $6::text[])",
                             PointArrays(placed), doing);
}

}  // namespace

Status PostgresStore::AppendMetrics(const std::vector<MetricPoint>& points) {
  if (points.empty()) return Status::Ok();
  std::vector<uint32_t> series_of;
  std::vector<Series> series = internal::GroupBySeries(points, &series_of);
  std::string doing = internal::DescribeBatch(points, series);
  std::lock_guard lock(mutex_);
  return InTransaction(*connection_, doing,
                       [&]() { return StorePoints(*connection_, points, series, series_of, doing); });
}

StatusOr<bool> PostgresStore::AppendMetricsBatch(const std::string& run_id, const std::string& batch,
                                                 const std::vector<MetricPoint>& points) {
  std::vector<uint32_t> series_of;
  std::vector<Series> series = internal::GroupBySeries(points, &series_of);
  std::string doing = "storing metrics batch " + batch + " of run " + run_id;
  std::lock_guard lock(mutex_);
  bool stored = false;
  Status status = InTransaction(*connection_, doing, [&]() -> Status {
    StatusOr<PgResult> noted = connection_->Exec(
        "INSERT INTO metric_batches (run_id, batch, points) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        PgParams().Add(run_id).Add(batch).Add(static_cast<int64_t>(points.size())), doing);
    if (!noted.ok()) return noted.status();
    stored = noted->affected() != 0;
    if (!stored || points.empty()) return Status::Ok();  // stored before: the transaction ends unchanged
    return StorePoints(*connection_, points, series, series_of, doing);
  });
  if (!status.ok()) return status;
  return stored;
}

StatusOr<std::vector<MetricPoint>> PostgresStore::Metrics(const std::string& run_id, const std::string& name) {
  std::string sql = std::string("SELECT ") + kPointColumns +
                    " FROM metric_series AS s JOIN metric_points AS p ON p.series_id = s.id"
                    " WHERE s.run_id = $1" +
                    (name.empty() ? "" : " AND s.name = $2") + " ORDER BY s.name, p.step, p.ts, p.seq";
  PgParams params;
  params.Add(run_id);
  if (!name.empty()) params.Add(name);
  std::lock_guard lock(mutex_);
  return PgQuery<MetricPoint>(*connection_, sql, params, "reading the metrics of run " + run_id, ReadPoint<PgRow>);
}

StatusOr<std::vector<MetricPoint>> PostgresStore::LatestMetrics(const std::string& run_id) {
  static const std::string kSql =
      std::string("SELECT ") + kPointColumns +
      " FROM metric_series AS s JOIN metric_points AS p ON p.series_id = s.id"
      " WHERE s.run_id = $1 AND (p.step, p.ts, p.seq) = ("
      "   SELECT step, ts, seq FROM metric_points WHERE series_id = s.id"
      "   ORDER BY step DESC, ts DESC, seq DESC LIMIT 1)"
      " ORDER BY s.name";
  std::lock_guard lock(mutex_);
  return PgQuery<MetricPoint>(*connection_, kSql, PgParams().Add(run_id),
                              "reading the latest metrics of run " + run_id, ReadPoint<PgRow>);
}

}  // namespace amlc::runtime
