// Implementation notes: every public method holds mutex_ for its whole run,
// so no method may call another public one (the mutex is not recursive).
// Writes of more than one row run in InTransaction, whose body may run again
// after a deadlock: bodies only read their arguments and write their results.
// Metrics are in postgres_store_metrics.cc, the registries in
// postgres_store_registry.cc, activities, the journal and syncs in
// postgres_store_log.cc; what they share is in postgres_store_internal.h.

#include "runtime/state/postgres_store.h"

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_schema.h"
#include "runtime/state/postgres_store_internal.h"
#include "runtime/state/record_rows.h"

namespace amlc::runtime {

using internal::PgExecute;
using internal::PgQuery;
using internal::PgQueryFirst;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

constexpr const char* kInsertRun =
    "INSERT INTO runs (id, experiment, job_id, run_key, parent_run_id, status, compute, "
    "command, snapshot_digest, params_json, outputs_json, spec_commit, work_dir, pid, "
    "exit_code, error, created_at, started_at, ended_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";

constexpr const char* kUpdateRun =
    "UPDATE runs SET experiment = $2, job_id = $3, run_key = $4, parent_run_id = $5, "
    "status = $6, compute = $7, command = $8, snapshot_digest = $9, params_json = $10, "
    "outputs_json = $11, spec_commit = $12, work_dir = $13, pid = $14, exit_code = $15, "
    "error = $16, created_at = $17, started_at = $18, ended_at = $19 WHERE id = $1";

PgParams RunRowParams(const RunRecord& run) {
  PgParams params;
  params.Add(run.id).Add(run.experiment).Add(run.job_id).Add(run.run_key);
  if (run.parent_run_id.empty()) {
    params.AddNull();
  } else {
    params.Add(run.parent_run_id);
  }
  params.Add(std::string_view(RunStatusName(run.status))).Add(run.compute).Add(run.command);
  params.Add(run.snapshot_digest).Add(run.params_json).Add(run.outputs_json).Add(run.spec_commit);
  params.Add(run.work_dir).Add(run.pid).Add(static_cast<int64_t>(run.exit_code)).Add(run.error);
  params.Add(run.created_at).Add(run.started_at).Add(run.ended_at);
  return params;
}

std::string SelectRuns(const std::string& where_and_order) {
  return std::string("SELECT ") + kRunColumns + " FROM runs " + where_and_order;
}

Status EnsureExperimentRow(PgConnection& connection, const std::string& name, int64_t created_at,
                           std::string_view doing) {
  return PgExecute(connection,
                   "INSERT INTO experiments (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                   PgParams().Add(name).Add(created_at), doing);
}

// Inserts or updates `run` (by `sql`), recording its experiment with it.
Status WriteRun(PgConnection& connection, const char* sql, const RunRecord& run, std::string_view doing) {
  return InTransaction(connection, doing, [&]() -> Status {
    if (!run.experiment.empty()) {
      int64_t created_at = run.created_at != 0 ? run.created_at : NowMillis();
      if (Status status = EnsureExperimentRow(connection, run.experiment, created_at, doing); !status.ok()) {
        return status;
      }
    }
    StatusOr<PgResult> written = connection.Exec(sql, RunRowParams(run), doing);
    if (!written.ok()) return written.status();
    if (written->affected() == 0) return internal::PgNoSuch(connection, doing, "run");
    return Status::Ok();
  });
}

// --- The run filter in PostgreSQL's SQL ----------------------------------------
//
// The same meaning as the SQLite store's (sqlite_store.cc), with PostgreSQL's
// stricter types: every parameter is cast to the type it is compared as, and
// text is read as a number only when it is one (a param "abc" compared with
// `> 1` is no match, where SQLite would read it as 0).

// The latest numeric value a run logged for the metric named by `key`; NULL
// when it logged none (or text). The same point LatestMetrics reads.
std::string LatestValueOf(const std::string& key) {
  return "(SELECT CASE WHEN p.text = '' THEN p.value END FROM metric_series AS s"
         " JOIN metric_points AS p ON p.series_id = s.id WHERE s.run_id = runs.id AND s.name = " +
         key + " ORDER BY p.step DESC, p.ts DESC, p.seq DESC LIMIT 1)";
}

// `text` as a number when it reads as one, else NULL.
std::string NumberOf(const std::string& text) {
  return "(CASE WHEN " + text + " ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' THEN (" + text +
         ")::double precision END)";
}

bool NumericAttribute(const std::string& column) {
  return column == "started_at" || column == "ended_at" || column == "created_at";
}

std::string FieldValueOf(RunField field, const std::string& key, PgParams& params) {
  switch (field) {
    case RunField::kMetric: return LatestValueOf(params.Next(key) + "::text");
    case RunField::kParam:
      return "(SELECT value FROM run_params WHERE run_id = runs.id AND key = " + params.Next(key) + "::text)";
    case RunField::kTag:
      return "(SELECT value FROM run_tags WHERE run_id = runs.id AND key = " + params.Next(key) + "::text)";
    case RunField::kAttribute: return RunAttributeColumn(key);
  }
  return "NULL";
}

std::string_view SqlOperator(const std::string& op) {
  for (std::string_view known : {">", ">=", "<", "<=", "!=", "="}) {
    if (op == known) return known;
  }
  return op == "==" ? "=" : "";
}

StatusOr<std::string> ConditionSql(const RunCondition& c, PgParams& params) {
  std::string value = FieldValueOf(c.field, c.key, params);
  // LIKE ignores case, as the SQLite store's LIKE does (SQLite's LIKE folds
  // ASCII case), so a filter finds the same runs on both backends.
  if (c.op == "LIKE" || c.op == "ILIKE") return value + " ILIKE " + params.Next(c.text) + "::text";
  std::string_view op = SqlOperator(c.op);
  if (op.empty()) return Status(StatusCode::kInvalidArgument, "unknown comparison '" + c.op + "'");
  bool ordering = c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">=";
  bool numeric_column = c.field == RunField::kMetric ||
                        (c.field == RunField::kAttribute && NumericAttribute(RunAttributeColumn(c.key)));
  if (c.number && (numeric_column || (ordering && c.field != RunField::kAttribute))) {
    std::string number = params.Next(*c.number) + "::double precision";
    return (numeric_column ? value : NumberOf(value)) + " " + std::string(op) + " " + number;
  }
  if (numeric_column) return value + "::text " + std::string(op) + " " + params.Next(c.text) + "::text";
  return value + " " + std::string(op) + " " + params.Next(c.text) + "::text";
}

// ORDER BY terms: runs without the value last; params and tags that are
// numbers in numeric order ("10" after "9"), apart from text, as SQLite's
// ordering of numbers before text (after it, descending).
std::string OrderSql(const RunOrder& order, PgParams& params) {
  std::string value = FieldValueOf(order.field, order.key, params);
  std::string direction = order.descending ? " DESC" : " ASC";
  std::string sql = "(" + value + ") IS NULL, ";
  if (order.field == RunField::kParam || order.field == RunField::kTag) {
    std::string number = NumberOf(value);
    sql += number + (order.descending ? " IS NOT NULL, " : " IS NULL, ") + number + direction + ", ";
  }
  return sql + value + direction + ", ";
}

}  // namespace

StatusOr<std::unique_ptr<StateStore>> OpenPostgresStore(const std::string& url) {
  StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(url);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(*store));
}

StatusOr<std::unique_ptr<StateStore>> OpenStateStore(const std::string& location) {
  return IsPostgresUrl(location) ? OpenPostgresStore(location) : OpenSqliteStore(location);
}

StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url) {
  StatusOr<std::unique_ptr<PgConnection>> connection = PgConnection::Open(url);
  if (!connection.ok()) return connection.status();
  if (Status status = MigratePostgresSchema(**connection); !status.ok()) return status;
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(*connection)));
}

PostgresStore::PostgresStore(std::unique_ptr<PgConnection> connection) : connection_(std::move(connection)) {}

PostgresStore::~PostgresStore() = default;

// --- Resources ---------------------------------------------------------------

Status PostgresStore::PutResource(const ResourceRecord& record) {
  std::lock_guard lock(mutex_);
  return PgExecute(*connection_,
                   "INSERT INTO resources (id, kind, name, version, digest, spec_json, outputs_json, "
                   "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET "
                   "kind = excluded.kind, name = excluded.name, version = excluded.version, "
                   "digest = excluded.digest, spec_json = excluded.spec_json, "
                   "outputs_json = excluded.outputs_json, updated_at = excluded.updated_at",
                   PgParams()
                       .Add(record.id).Add(record.kind).Add(record.name).Add(record.version)
                       .Add(record.digest).Add(record.spec_json).Add(record.outputs_json).Add(record.updated_at),
                   "recording resource " + record.id);
}

Status PostgresStore::DeleteResource(const std::string& id) {
  std::lock_guard lock(mutex_);
  return PgExecute(*connection_, "DELETE FROM resources WHERE id = $1", PgParams().Add(id),
                   "deleting resource " + id);
}

StatusOr<std::vector<std::string>> PostgresStore::DeleteRunsOfJob(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  std::string doing = "deleting the runs of " + job_id;
  std::vector<std::string> ids;
  Status status = InTransaction(*connection_, doing, [&]() -> Status {
    auto listed = PgQuery<std::string>(*connection_, "SELECT id FROM runs WHERE job_id = $1 ORDER BY id",
                                       PgParams().Add(job_id), "listing the runs of " + job_id,
                                       [](const PgRow& r) { return r.Text(0); });
    if (!listed.ok()) return listed.status();
    ids = std::move(*listed);
    // Children first, so no parent row is deleted while a child still points at it.
    Status deleted = PgExecute(*connection_, "DELETE FROM runs WHERE job_id = $1 AND parent_run_id IS NOT NULL",
                               PgParams().Add(job_id), "deleting the child runs of " + job_id);
    if (!deleted.ok()) return deleted;
    return PgExecute(*connection_, "DELETE FROM runs WHERE job_id = $1", PgParams().Add(job_id), doing);
  });
  if (!status.ok()) return status;
  return ids;
}

StatusOr<std::vector<ResourceRecord>> PostgresStore::ListResources() {
  std::lock_guard lock(mutex_);
  return PgQuery<ResourceRecord>(*connection_,
                                 std::string("SELECT ") + kResourceColumns + " FROM resources ORDER BY id",
                                 PgParams(), "listing resources", ReadResource<PgRow>);
}

StatusOr<std::optional<ResourceRecord>> PostgresStore::GetResource(const std::string& id) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<ResourceRecord>(
      *connection_, std::string("SELECT ") + kResourceColumns + " FROM resources WHERE id = $1", PgParams().Add(id),
      "reading resource " + id, ReadResource<PgRow>);
}

// --- Experiments -------------------------------------------------------------

Status PostgresStore::EnsureExperiment(const std::string& name) {
  if (name.empty()) {
    return Status(StatusCode::kInvalidArgument, "state store " + connection_->where() + ": an experiment needs a name");
  }
  std::lock_guard lock(mutex_);
  return EnsureExperimentRow(*connection_, name, NowMillis(), "recording experiment " + name);
}

StatusOr<std::vector<std::string>> PostgresStore::ListExperiments() {
  std::lock_guard lock(mutex_);
  return PgQuery<std::string>(*connection_, "SELECT name FROM experiments ORDER BY name", PgParams(),
                              "listing experiments", [](const PgRow& r) { return r.Text(0); });
}

// --- Runs --------------------------------------------------------------------

Status PostgresStore::InsertRun(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  return WriteRun(*connection_, kInsertRun, run, "recording new run " + run.id);
}

Status PostgresStore::UpdateRun(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  return WriteRun(*connection_, kUpdateRun, run, "updating run " + run.id);
}

StatusOr<std::optional<RunRecord>> PostgresStore::GetRun(const std::string& id) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<RunRecord>(*connection_, SelectRuns("WHERE id = $1"), PgParams().Add(id), "reading run " + id,
                                 ReadRun<PgRow>);
}

StatusOr<std::vector<RunRecord>> PostgresStore::ListRuns(const RunQuery& query) {
  PgParams params;
  std::string where = "WHERE true";
  if (!query.experiment.empty()) where += " AND experiment = " + params.Next(query.experiment);
  if (!query.job_id.empty()) where += " AND job_id = " + params.Next(query.job_id);
  if (query.status) where += " AND status = " + params.Next(std::string_view(RunStatusName(*query.status)));
  if (!query.parent_run_id.empty()) where += " AND parent_run_id = " + params.Next(query.parent_run_id);
  if (query.keyed_only) where += " AND run_key <> ''";
  std::vector<RunCondition> conditions = query.conditions;
  for (const MetricComparison& comparison : query.where) {
    conditions.push_back({RunField::kMetric, comparison.metric, comparison.op, "", comparison.value});
  }
  for (const RunCondition& condition : conditions) {
    auto sql = ConditionSql(condition, params);
    if (!sql.ok()) return sql.status();
    where += " AND " + *sql;
  }
  std::optional<RunOrder> order = query.order;
  if (!order && !query.order_by_metric.empty()) {
    order = RunOrder{RunField::kMetric, query.order_by_metric, query.descending};
  }
  where += " ORDER BY " + (order ? OrderSql(*order, params) : std::string()) + "created_at DESC, seq DESC";
  if (query.limit > 0) where += " LIMIT " + params.Next(static_cast<int64_t>(query.limit));
  std::lock_guard lock(mutex_);
  return PgQuery<RunRecord>(*connection_, SelectRuns(where), params, "listing runs", ReadRun<PgRow>);
}

StatusOr<std::optional<RunRecord>> PostgresStore::FindCompletedRun(const std::string& job_id,
                                                                   const std::string& run_key) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<RunRecord>(*connection_,
                                 SelectRuns("WHERE job_id = $1 AND run_key = $2 AND status = 'Completed' "
                                            "ORDER BY created_at DESC, ended_at DESC, seq DESC LIMIT 1"),
                                 PgParams().Add(job_id).Add(run_key), "looking up a completed run of " + job_id,
                                 ReadRun<PgRow>);
}

StatusOr<std::vector<RunRecord>> PostgresStore::FindActiveRuns(const std::string& job_id,
                                                               const std::string& run_key) {
  std::lock_guard lock(mutex_);
  return PgQuery<RunRecord>(*connection_,
                            SelectRuns("WHERE job_id = $1 AND run_key = $2 AND status IN ('Queued', 'Running') "
                                       "ORDER BY created_at, seq"),
                            PgParams().Add(job_id).Add(run_key), "looking up active runs of " + job_id, ReadRun<PgRow>);
}

Status PostgresStore::SetRunTag(const std::string& run_id, const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  return PgExecute(*connection_,
                   "INSERT INTO run_tags (run_id, key, value) VALUES ($1, $2, $3) "
                   "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                   PgParams().Add(run_id).Add(key).Add(value), "tagging run " + run_id + " with " + key);
}

namespace {
std::pair<std::string, std::string> ReadPair(const PgRow& r) { return {r.Text(0), r.Text(1)}; }
}  // namespace

StatusOr<std::vector<std::pair<std::string, std::string>>> PostgresStore::RunTags(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  return PgQuery<std::pair<std::string, std::string>>(
      *connection_, "SELECT key, value FROM run_tags WHERE run_id = $1 ORDER BY key", PgParams().Add(run_id),
      "reading the tags of run " + run_id, ReadPair);
}

Status PostgresStore::DeleteRunTag(const std::string& run_id, const std::string& key) {
  std::lock_guard lock(mutex_);
  return PgExecute(*connection_, "DELETE FROM run_tags WHERE run_id = $1 AND key = $2",
                   PgParams().Add(run_id).Add(key), "removing tag " + key + " of run " + run_id);
}

Status PostgresStore::SetRunParams(const std::string& run_id,
                                   const std::vector<std::pair<std::string, std::string>>& params) {
  std::lock_guard lock(mutex_);
  std::string doing = "recording the params of run " + run_id;
  return InTransaction(*connection_, doing, [&]() -> Status {
    for (const auto& [key, value] : params) {
      Status status = PgExecute(*connection_,
                                "INSERT INTO run_params (run_id, key, value) VALUES ($1, $2, $3) "
                                "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                                PgParams().Add(run_id).Add(key).Add(value), doing);
      if (!status.ok()) return status;
    }
    return Status::Ok();
  });
}

StatusOr<std::vector<std::pair<std::string, std::string>>> PostgresStore::RunParams(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  return PgQuery<std::pair<std::string, std::string>>(
      *connection_, "SELECT key, value FROM run_params WHERE run_id = $1 ORDER BY key", PgParams().Add(run_id),
      "reading the params of run " + run_id, ReadPair);
}

// --- State serial ------------------------------------------------------------

StatusOr<int64_t> PostgresStore::StateSerial() {
  std::lock_guard lock(mutex_);
  auto serial = PgQueryFirst<int64_t>(*connection_, "SELECT serial FROM state_serial WHERE id = 1", PgParams(),
                                      "reading the state serial",
                                      [](const PgRow& r) { return r.Int(0); });
  if (!serial.ok()) return serial.status();
  if (!serial->has_value()) {
    return Status(StatusCode::kInternal, "state store " + connection_->where() + ": the state serial row is missing");
  }
  return **serial;
}

}  // namespace amlc::runtime
