// Implementation notes: every public method holds mutex_ for its whole run
// and uses only cached statements (SqliteConnection::Prepare), each borrowed
// for one use and reset when its Statement goes; so no method may call
// another public one (the mutex is not recursive) and no statement may be
// borrowed twice at once. Writes of more than one row run in a Transaction.
// Text is bound without a copy: bind the caller's strings or named locals,
// never temporaries. Metrics are in sqlite_store_metrics.cc, activities and
// the journal in sqlite_store_log.cc, the model and image registries in
// sqlite_store_registry.cc; the helpers they share are in
// sqlite_store_internal.h.

#include "runtime/state/sqlite_store.h"

#include <variant>

#include "runtime/state/sqlite_connection.h"
#include "runtime/state/sqlite_schema.h"
#include "runtime/state/record_rows.h"
#include "runtime/state/sqlite_store_internal.h"

namespace amlc::runtime {

using internal::Binder;
using internal::Execute;
using internal::Query;
using internal::QueryFirst;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

constexpr const char* kInsertRun =
    "INSERT INTO runs (id, experiment, job_id, run_key, parent_run_id, status, compute, "
    "command, snapshot_digest, params_json, outputs_json, spec_commit, work_dir, pid, "
    "exit_code, error, created_at, started_at, ended_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19)";

constexpr const char* kUpdateRun =
    "UPDATE runs SET experiment = ?2, job_id = ?3, run_key = ?4, parent_run_id = ?5, "
    "status = ?6, compute = ?7, command = ?8, snapshot_digest = ?9, params_json = ?10, "
    "outputs_json = ?11, spec_commit = ?12, work_dir = ?13, pid = ?14, exit_code = ?15, "
    "error = ?16, created_at = ?17, started_at = ?18, ended_at = ?19 WHERE id = ?1";

void BindRun(Statement& statement, const RunRecord& run) {
  statement.Bind(1, run.id).Bind(2, run.experiment).Bind(3, run.job_id).Bind(4, run.run_key);
  if (run.parent_run_id.empty()) {
    statement.BindNull(5);
  } else {
    statement.Bind(5, run.parent_run_id);
  }
  statement.Bind(6, std::string_view(RunStatusName(run.status)))
      .Bind(7, run.compute)
      .Bind(8, run.command)
      .Bind(9, run.snapshot_digest)
      .Bind(10, run.params_json)
      .Bind(11, run.outputs_json)
      .Bind(12, run.spec_commit)
      .Bind(13, run.work_dir)
      .Bind(14, run.pid)
      .Bind(15, static_cast<int64_t>(run.exit_code))
      .Bind(16, run.error)
      .Bind(17, run.created_at)
      .Bind(18, run.started_at)
      .Bind(19, run.ended_at);
}

std::string SelectRuns(const char* where_and_order) {
  return std::string("SELECT ") + kRunColumns + " FROM runs " + where_and_order;
}

Status EnsureExperimentRow(SqliteConnection& connection, const std::string& name,
                           int64_t created_at, std::string_view doing) {
  return Execute(connection,
                 "INSERT INTO experiments (name, created_at) VALUES (?1, ?2) "
                 "ON CONFLICT (name) DO NOTHING",
                 doing, [&](Statement& s) { s.Bind(1, name).Bind(2, created_at); });
}

// Inserts or updates `run` (by `sql`), recording its experiment with it.
Status WriteRun(SqliteConnection& connection, const char* sql, const RunRecord& run,
                std::string_view doing) {
  Transaction transaction(&connection);
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  if (!run.experiment.empty()) {
    int64_t created_at = run.created_at != 0 ? run.created_at : NowMillis();
    if (Status status = EnsureExperimentRow(connection, run.experiment, created_at, doing);
        !status.ok()) {
      return status;
    }
  }
  if (Status status = Execute(connection, sql, doing, [&](Statement& s) { BindRun(s, run); });
      !status.ok()) {
    return status;
  }
  if (connection.Changes() == 0) {
    return Status(StatusCode::kNotFound,
                  "state store " + connection.path() + ": " + std::string(doing) + ": no such run");
  }
  return transaction.Commit(doing);
}

}  // namespace

StatusOr<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path) {
  StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StateStore>(std::move(*store));
}

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  StatusOr<std::unique_ptr<SqliteConnection>> connection = SqliteConnection::Open(path);
  if (!connection.ok()) return connection.status();
  if (Status status = MigrateSqliteSchema(**connection); !status.ok()) return status;
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*connection)));
}

SqliteStore::SqliteStore(std::unique_ptr<SqliteConnection> connection)
    : connection_(std::move(connection)) {}

SqliteStore::~SqliteStore() = default;

// --- Resources ---------------------------------------------------------------

Status SqliteStore::PutResource(const ResourceRecord& record) {
  std::lock_guard lock(mutex_);
  return Execute(
      *connection_,
      "INSERT INTO resources (id, kind, name, version, digest, spec_json, outputs_json, "
      "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET "
      "kind = excluded.kind, name = excluded.name, version = excluded.version, "
      "digest = excluded.digest, spec_json = excluded.spec_json, "
      "outputs_json = excluded.outputs_json, updated_at = excluded.updated_at",
      "recording resource " + record.id, [&](Statement& s) {
        s.Bind(1, record.id).Bind(2, record.kind).Bind(3, record.name).Bind(4, record.version);
        s.Bind(5, record.digest).Bind(6, record.spec_json).Bind(7, record.outputs_json);
        s.Bind(8, record.updated_at);
      });
}

Status SqliteStore::DeleteResource(const std::string& id) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_, "DELETE FROM resources WHERE id = ?1", "deleting resource " + id,
                 [&](Statement& s) { s.Bind(1, id); });
}

StatusOr<std::vector<std::string>> SqliteStore::DeleteRunsOfJob(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  std::string doing = "deleting the runs of " + job_id;
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  auto ids = Query<std::string>(*connection_, "SELECT id FROM runs WHERE job_id = ?1 ORDER BY id",
                                "listing the runs of " + job_id, [&](Statement& s) { s.Bind(1, job_id); },
                                [](Statement& s) { return s.Text(0); });
  if (!ids.ok()) return ids.status();
  // Children first, so no parent row is deleted while a child still points at it.
  Status status = Execute(*connection_,
                          "DELETE FROM runs WHERE job_id = ?1 AND parent_run_id IS NOT NULL",
                          "deleting the child runs of " + job_id, [&](Statement& s) { s.Bind(1, job_id); });
  if (!status.ok()) return status;
  status = Execute(*connection_, "DELETE FROM runs WHERE job_id = ?1", doing,
                   [&](Statement& s) { s.Bind(1, job_id); });
  if (!status.ok()) return status;
  if (Status committed = transaction.Commit(doing); !committed.ok()) return committed;
  return ids;
}

StatusOr<std::vector<ResourceRecord>> SqliteStore::ListResources() {
  std::lock_guard lock(mutex_);
  return Query<ResourceRecord>(
      *connection_, std::string("SELECT ") + kResourceColumns + " FROM resources ORDER BY id",
      "listing resources", [](Statement&) {}, ReadResource<Statement>);
}

StatusOr<std::optional<ResourceRecord>> SqliteStore::GetResource(const std::string& id) {
  std::lock_guard lock(mutex_);
  return QueryFirst<ResourceRecord>(
      *connection_, std::string("SELECT ") + kResourceColumns + " FROM resources WHERE id = ?1",
      "reading resource " + id, [&](Statement& s) { s.Bind(1, id); }, ReadResource<Statement>);
}

// --- Experiments -------------------------------------------------------------

Status SqliteStore::EnsureExperiment(const std::string& name) {
  if (name.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "state store " + connection_->path() + ": an experiment needs a name");
  }
  std::lock_guard lock(mutex_);
  return EnsureExperimentRow(*connection_, name, NowMillis(), "recording experiment " + name);
}

StatusOr<std::vector<std::string>> SqliteStore::ListExperiments() {
  std::lock_guard lock(mutex_);
  return Query<std::string>(
      *connection_, "SELECT name FROM experiments ORDER BY name", "listing experiments",
      [](Statement&) {}, [](const Statement& row) { return row.Text(0); });
}

// --- Runs --------------------------------------------------------------------

Status SqliteStore::InsertRun(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  return WriteRun(*connection_, kInsertRun, run, "recording new run " + run.id);
}

Status SqliteStore::UpdateRun(const RunRecord& run) {
  std::lock_guard lock(mutex_);
  return WriteRun(*connection_, kUpdateRun, run, "updating run " + run.id);
}

StatusOr<std::optional<RunRecord>> SqliteStore::GetRun(const std::string& id) {
  std::lock_guard lock(mutex_);
  return QueryFirst<RunRecord>(
      *connection_, SelectRuns("WHERE id = ?1"), "reading run " + id,
      [&](Statement& s) { s.Bind(1, id); }, ReadRun<Statement>);
}

// The latest numeric value a run logged for the metric bound to `?N`; NULL
// when it logged none (or text). The same point LatestMetrics reads.
std::string LatestValueOf(int parameter) {
  return "(SELECT CASE WHEN p.text = '' THEN p.value END FROM metric_series AS s"
         " JOIN metric_points AS p ON p.series_id = s.id WHERE s.run_id = runs.id AND s.name = ?" +
         std::to_string(parameter) + " ORDER BY p.step DESC, p.ts DESC, p.seq DESC LIMIT 1)";
}

// SQL for a metric comparison's operator; "" for one the parser never makes.
std::string_view SqlOperator(const std::string& op) {
  for (std::string_view known : {">", ">=", "<", "<=", "!="}) {
    if (op == known) return known;
  }
  return op == "==" ? "=" : "";
}

// The SQL value a condition or ordering looks at, reading its key from
// parameter ?`parameter`.
std::string FieldValueOf(RunField field, const std::string& key, int parameter) {
  std::string p = "?" + std::to_string(parameter);
  switch (field) {
    case RunField::kMetric: return LatestValueOf(parameter);
    case RunField::kParam: return "(SELECT value FROM run_params WHERE run_id = runs.id AND key = " + p + ")";
    case RunField::kTag: return "(SELECT value FROM run_tags WHERE run_id = runs.id AND key = " + p + ")";
    case RunField::kAttribute: return RunAttributeColumn(key);
  }
  return "NULL";
}

// One condition as SQL, with the values it binds appended to `binds`.
StatusOr<std::string> ConditionSql(const RunCondition& c, std::vector<std::variant<std::string, double>>& binds) {
  int parameter = 6 + static_cast<int>(binds.size());
  std::string value = FieldValueOf(c.field, c.key, parameter);
  if (c.field != RunField::kAttribute) binds.emplace_back(c.key);
  std::string next = "?" + std::to_string(6 + binds.size());
  bool ordering = c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">=";
  if (c.op == "LIKE") {
    binds.emplace_back(c.text);
    return value + " LIKE " + next;
  }
  if (c.op == "ILIKE") {
    binds.emplace_back(c.text);
    return "lower(" + value + ") LIKE lower(" + next + ")";
  }
  std::string_view op = SqlOperator(c.op == "=" ? "==" : c.op);
  if (op.empty()) return Status(StatusCode::kInvalidArgument, "unknown comparison '" + c.op + "'");
  bool numeric = c.field == RunField::kMetric ||
                 (c.number && (ordering || (c.field == RunField::kAttribute && c.key != "status")));
  if (numeric && c.number) {
    binds.emplace_back(*c.number);
    return (c.field == RunField::kMetric || c.field == RunField::kAttribute ? value : "CAST(" + value + " AS REAL)") +
           " " + std::string(op) + " " + next;
  }
  binds.emplace_back(c.text);
  return value + " " + std::string(op) + " " + next;
}

StatusOr<std::vector<RunRecord>> SqliteStore::ListRuns(const RunQuery& query) {
  // One statement shape per combination of filters (each cached), so every
  // shape gets the index that fits it. Conditions and ordering bind their
  // names and values from ?6 on.
  std::string where = "WHERE 1";
  if (!query.experiment.empty()) where += " AND experiment = ?1";
  if (!query.job_id.empty()) where += " AND job_id = ?2";
  if (query.status) where += " AND status = ?3";
  if (!query.parent_run_id.empty()) where += " AND parent_run_id = ?4";
  if (query.keyed_only) where += " AND run_key != ''";
  std::vector<RunCondition> conditions = query.conditions;
  for (const MetricComparison& comparison : query.where) {
    conditions.push_back({RunField::kMetric, comparison.metric, comparison.op, "", comparison.value});
  }
  std::vector<std::variant<std::string, double>> binds;
  for (const RunCondition& condition : conditions) {
    auto sql = ConditionSql(condition, binds);
    if (!sql.ok()) return sql.status();
    where += " AND " + *sql;
  }
  std::optional<RunOrder> order = query.order;
  if (!order && !query.order_by_metric.empty()) order = RunOrder{RunField::kMetric, query.order_by_metric, query.descending};
  if (order) {
    std::string value = FieldValueOf(order->field, order->key, 6 + static_cast<int>(binds.size()));
    if (order->field != RunField::kAttribute) binds.emplace_back(order->key);
    if (order->field == RunField::kParam || order->field == RunField::kTag) {
      // Numbers in numeric order, then text: "10" after "9".
      value = "CASE WHEN CAST(" + value + " AS REAL) || '' = " + value + " OR CAST(" + value +
              " AS INTEGER) || '' = " + value + " THEN CAST(" + value + " AS REAL) ELSE " + value + " END";
    }
    where += " ORDER BY " + value + " IS NULL, " + value + (order->descending ? " DESC" : " ASC") + ",";
  } else {
    where += " ORDER BY";
  }
  where += " created_at DESC, rowid DESC LIMIT ?5";
  std::string_view status = query.status ? RunStatusName(*query.status) : "";
  std::lock_guard lock(mutex_);
  return Query<RunRecord>(
      *connection_, SelectRuns(where.c_str()), "listing runs",
      [&](Statement& s) {
        s.Bind(1, query.experiment).Bind(2, query.job_id).Bind(3, status);
        s.Bind(4, query.parent_run_id);
        s.Bind(5, static_cast<int64_t>(query.limit > 0 ? query.limit : -1));
        int parameter = 6;
        for (const auto& bind : binds) {
          if (const std::string* text = std::get_if<std::string>(&bind)) s.Bind(parameter++, std::string_view(*text));
          else s.Bind(parameter++, std::get<double>(bind));
        }
      },
      ReadRun<Statement>);
}

StatusOr<std::optional<RunRecord>> SqliteStore::FindCompletedRun(const std::string& job_id,
                                                                 const std::string& run_key) {
  std::lock_guard lock(mutex_);
  return QueryFirst<RunRecord>(
      *connection_,
      SelectRuns("WHERE job_id = ?1 AND run_key = ?2 AND status = 'Completed' "
                 "ORDER BY created_at DESC, ended_at DESC, rowid DESC LIMIT 1"),
      "looking up a completed run of " + job_id,
      [&](Statement& s) { s.Bind(1, job_id).Bind(2, run_key); }, ReadRun<Statement>);
}

StatusOr<std::vector<RunRecord>> SqliteStore::FindActiveRuns(const std::string& job_id,
                                                             const std::string& run_key) {
  std::lock_guard lock(mutex_);
  return Query<RunRecord>(
      *connection_,
      SelectRuns("WHERE job_id = ?1 AND run_key = ?2 AND status IN ('Queued', 'Running') "
                 "ORDER BY created_at, rowid"),
      "looking up active runs of " + job_id,
      [&](Statement& s) { s.Bind(1, job_id).Bind(2, run_key); }, ReadRun<Statement>);
}

Status SqliteStore::SetRunTag(const std::string& run_id, const std::string& key,
                              const std::string& value) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_,
                 "INSERT INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                 "tagging run " + run_id + " with " + key,
                 [&](Statement& s) { s.Bind(1, run_id).Bind(2, key).Bind(3, value); });
}

StatusOr<std::vector<std::pair<std::string, std::string>>> SqliteStore::RunTags(
    const std::string& run_id) {
  using Tag = std::pair<std::string, std::string>;
  std::lock_guard lock(mutex_);
  return Query<Tag>(
      *connection_, "SELECT key, value FROM run_tags WHERE run_id = ?1 ORDER BY key",
      "reading the tags of run " + run_id, [&](Statement& s) { s.Bind(1, run_id); },
      [](const Statement& row) { return Tag(row.Text(0), row.Text(1)); });
}

Status SqliteStore::DeleteRunTag(const std::string& run_id, const std::string& key) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_, "DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2",
                 "removing tag " + key + " of run " + run_id,
                 [&](Statement& s) { s.Bind(1, run_id).Bind(2, key); });
}

Status SqliteStore::SetRunParams(const std::string& run_id,
                                 const std::vector<std::pair<std::string, std::string>>& params) {
  std::lock_guard lock(mutex_);
  std::string doing = "recording the params of run " + run_id;
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  for (const auto& [key, value] : params) {
    Status status = Execute(*connection_,
                            "INSERT INTO run_params (run_id, key, value) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                            doing, [&](Statement& s) { s.Bind(1, run_id).Bind(2, key).Bind(3, value); });
    if (!status.ok()) return status;
  }
  return transaction.Commit(doing);
}

StatusOr<std::vector<std::pair<std::string, std::string>>> SqliteStore::RunParams(
    const std::string& run_id) {
  using Param = std::pair<std::string, std::string>;
  std::lock_guard lock(mutex_);
  return Query<Param>(
      *connection_, "SELECT key, value FROM run_params WHERE run_id = ?1 ORDER BY key",
      "reading the params of run " + run_id, [&](Statement& s) { s.Bind(1, run_id); },
      [](const Statement& row) { return Param(row.Text(0), row.Text(1)); });
}

// --- State serial ------------------------------------------------------------

StatusOr<int64_t> SqliteStore::StateSerial() {
  std::lock_guard lock(mutex_);
  StatusOr<std::optional<int64_t>> serial = QueryFirst<int64_t>(
      *connection_, "SELECT serial FROM state_serial WHERE id = 1", "reading the state serial",
      [](Statement&) {}, [](const Statement& row) { return row.Int(0); });
  if (!serial.ok()) return serial.status();
  if (!serial->has_value()) {
    return Status(StatusCode::kInternal,
                  "state store " + connection_->path() + ": the state serial row is missing");
  }
  return **serial;
}

}  // namespace amlc::runtime
