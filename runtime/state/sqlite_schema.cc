// Implementation notes: the schema is the list of migration steps below,
// applied in order. A step is never edited once released; a change to the
// schema is a new step at the end. meta.schema_version is the number of steps
// applied. Every step runs in its own transaction together with the version
// update, so a crash leaves the store at a whole version.

#include "runtime/state/sqlite_schema.h"

#include <charconv>
#include <iterator>
#include <string>

namespace amlc::runtime {
namespace {

struct Migration {
  const char* summary;
  const char* script;
};

// Step 1: the initial schema.
//
// Text columns are NOT NULL with '' for "none" (as in the record structs),
// except runs.parent_run_id, which is NULL for a top-level run so that the
// foreign key to the parent holds. The state serial is bumped by triggers,
// so no write path can forget it; it starts at a random value so that a
// plan saved against a deleted and recreated store does not match by chance.
constexpr const char* kInitialSchema = R"sql(
PRAGMA application_id = 1634561123;

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE state_serial (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  serial INTEGER NOT NULL
);
INSERT INTO state_serial (id, serial) VALUES (1, abs(random() % 1000000000000));

CREATE TABLE resources (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  name         TEXT NOT NULL,
  version      TEXT NOT NULL,
  digest       TEXT NOT NULL,
  spec_json    TEXT NOT NULL,
  outputs_json TEXT NOT NULL,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE experiments (
  name       TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);

CREATE TABLE runs (
  id              TEXT PRIMARY KEY,
  experiment      TEXT NOT NULL,
  job_id          TEXT NOT NULL,
  run_key         TEXT NOT NULL,
  parent_run_id   TEXT REFERENCES runs (id),
  status          TEXT NOT NULL
                  CHECK (status IN ('Queued', 'Running', 'Completed', 'Failed', 'Canceled')),
  compute         TEXT NOT NULL,
  command         TEXT NOT NULL,
  snapshot_digest TEXT NOT NULL,
  params_json     TEXT NOT NULL,
  outputs_json    TEXT NOT NULL,
  spec_commit     TEXT NOT NULL,
  work_dir        TEXT NOT NULL,
  pid             INTEGER NOT NULL,
  exit_code       INTEGER NOT NULL,
  error           TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER NOT NULL,
  ended_at        INTEGER NOT NULL
);
CREATE INDEX runs_by_job_key_status ON runs (job_id, run_key, status);
CREATE INDEX runs_by_experiment_created ON runs (experiment, created_at);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_by_parent ON runs (parent_run_id);

CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Metrics. A series is one name logged by one run; its points refer to it by
-- number. Ingestion speed is bound by the work per point: here one b-tree
-- insert of a short row, where a row repeating run id and name plus an index
-- on them costs two inserts of longer keys, 1.7x slower as measured (see
-- bench/metrics_bench.md). The view `metrics` gives that plain shape for
-- anyone reading with SQL.
CREATE TABLE metric_series (
  id     INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  points INTEGER NOT NULL,  -- points logged so far: the next point's seq
  UNIQUE (run_id, name)
);
-- Points stored in the order Metrics() reads them (WITHOUT ROWID: the key
-- is the table, so there is no second b-tree to update), which makes reading
-- a series a range scan and its last point one seek. seq is the log order
-- within the series: it keeps points with equal step and ts apart and in order.
-- No foreign key on series_id: AppendMetrics takes the ids from metric_series
-- in the same transaction, and checking every point costs ~10% of
-- ingestion; the trigger below deletes a series' points with it instead.
CREATE TABLE metric_points (
  series_id INTEGER NOT NULL,
  step      INTEGER NOT NULL,
  ts        INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  value     REAL,  -- NULL stands for NaN, which SQLite stores as NULL anyway
  text      TEXT NOT NULL,
  PRIMARY KEY (series_id, step, ts, seq)
) WITHOUT ROWID;
CREATE TRIGGER metric_series_deleted AFTER DELETE ON metric_series
  BEGIN DELETE FROM metric_points WHERE series_id = OLD.id; END;
CREATE VIEW metrics (run_id, name, step, value, text, ts) AS
  SELECT s.run_id, s.name, p.step, p.value, p.text, p.ts
  FROM metric_series AS s JOIN metric_points AS p ON p.series_id = s.id;

CREATE TABLE activities (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  status      TEXT NOT NULL,
  progress    REAL NOT NULL,
  message     TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER NOT NULL
);

-- AUTOINCREMENT: a sequence number is never reused, even after the newest
-- entries are deleted, so seq orders entries across every apply.
CREATE TABLE journal (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  apply_id    TEXT NOT NULL,
  action      TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  phase       TEXT NOT NULL CHECK (phase IN ('begin', 'end')),
  status      TEXT NOT NULL,
  detail      TEXT NOT NULL,
  ts          INTEGER NOT NULL
);
CREATE INDEX journal_by_apply ON journal (apply_id);
CREATE INDEX journal_by_action ON journal (apply_id, action, resource_id, phase);

CREATE TRIGGER resources_inserted AFTER INSERT ON resources
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER resources_updated AFTER UPDATE ON resources
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER resources_deleted AFTER DELETE ON resources
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER runs_inserted AFTER INSERT ON runs
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER runs_updated AFTER UPDATE ON runs
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER runs_deleted AFTER DELETE ON runs
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
)sql";

// Step 2: the model and image registries.
//
// A name's row in model_names (image_names) holds the last version ever
// assigned, so the number of a deleted newest version is not given out again
// (max(version) would give it out). Tags are rows, not JSON, so a listing
// filters by tag with an indexed lookup; properties are written once and never
// filtered, so they stay one JSON object (the CHECK keeps it one), as does an
// image's push history, which is only ever appended to and read whole.
// image_models says which model versions an image packages, for the check that
// refuses to delete a model version in use. It has no foreign key to
// model_versions: the store records what an image was built from and leaves
// resolving model references to the image builder. Registering, deleting or
// pushing moves the state serial (a plan made before may resolve `@latest` or
// a build differently); tag edits do not, as with run tags.
constexpr const char* kRegistrySchema = R"sql(
CREATE TABLE model_names (
  name         TEXT PRIMARY KEY,
  last_version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE model_versions (
  name            TEXT NOT NULL REFERENCES model_names (name),
  version         INTEGER NOT NULL CHECK (version > 0),
  type            TEXT NOT NULL,
  framework       TEXT NOT NULL,
  description     TEXT NOT NULL,
  stage           TEXT NOT NULL,
  properties_json TEXT NOT NULL CHECK (json_type(properties_json) = 'object'),
  content_digest  TEXT NOT NULL,
  path_name       TEXT NOT NULL,
  single_file     INTEGER NOT NULL CHECK (single_file IN (0, 1)),
  size_bytes      INTEGER NOT NULL,
  source_key      TEXT NOT NULL,
  resource_id     TEXT NOT NULL,
  run_id          TEXT NOT NULL,
  job_id          TEXT NOT NULL,
  experiment      TEXT NOT NULL,
  spec_commit     TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_source ON model_versions (name, source_key, version);

CREATE TABLE model_tags (
  name    TEXT NOT NULL,
  version INTEGER NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions (name, version) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE image_names (
  name         TEXT PRIMARY KEY,
  last_version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE images (
  name        TEXT NOT NULL REFERENCES image_names (name),
  version     INTEGER NOT NULL CHECK (version > 0),
  kind        TEXT NOT NULL,
  digest      TEXT NOT NULL,
  build_key   TEXT NOT NULL,
  layout      TEXT NOT NULL,
  ref_name    TEXT NOT NULL,
  base_image  TEXT NOT NULL,
  environment TEXT NOT NULL,
  size_bytes  INTEGER NOT NULL,
  resource_id TEXT NOT NULL,
  pushed_json TEXT NOT NULL CHECK (json_type(pushed_json) = 'array'),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE INDEX images_by_build_key ON images (name, build_key, version);

CREATE TABLE image_tags (
  name    TEXT NOT NULL,
  version INTEGER NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES images (name, version) ON DELETE CASCADE
) WITHOUT ROWID;

-- position keeps the order of ImageRecord.models.
CREATE TABLE image_models (
  image_name    TEXT NOT NULL,
  image_version INTEGER NOT NULL,
  model_name    TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  position      INTEGER NOT NULL,
  PRIMARY KEY (image_name, image_version, model_name, model_version),
  FOREIGN KEY (image_name, image_version) REFERENCES images (name, version) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX image_models_by_model ON image_models (model_name, model_version);

CREATE TRIGGER model_versions_inserted AFTER INSERT ON model_versions
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER model_versions_updated AFTER UPDATE ON model_versions
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER model_versions_deleted AFTER DELETE ON model_versions
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER images_inserted AFTER INSERT ON images
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER images_updated AFTER UPDATE ON images
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
CREATE TRIGGER images_deleted AFTER DELETE ON images
  BEGIN UPDATE state_serial SET serial = serial + 1; END;
)sql";

// Step 3: the reconciler's records.
//
// A sync is one reconciler pass: the commit it compiled, what it planned and
// how applying went. The plan and the apply log are kept whole (JSON and
// text) since they are only ever read whole, by `GET /api/syncs/ID`.
// reconciler_values holds the little the loop must remember across restarts
// (the last fire of each schedule) as key/value rows. Neither moves the state
// serial: they record what happened, not what the workspace holds.
constexpr const char* kReconcilerSchema = R"sql(
CREATE TABLE syncs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  trigger        TEXT NOT NULL,
  commit_id      TEXT NOT NULL,
  author         TEXT NOT NULL,
  message        TEXT NOT NULL,
  result         TEXT NOT NULL,
  summary        TEXT NOT NULL,
  diagnostics    TEXT NOT NULL,
  plan_json      TEXT NOT NULL,
  apply_log      TEXT NOT NULL,
  resources_json TEXT NOT NULL,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER NOT NULL
);

CREATE TABLE reconciler_values (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Step 4: run parameters. A run's params are text, one row per key, like
// its tags (MLflow's model: logged once, compared as strings, queried as
// `params.x`); they come from the job's literal inputs, a sweep trial's
// values and the script's log_param. Writing them does not move the state
// serial: they describe a run, they do not change what the workspace holds.
constexpr const char* kRunParamsSchema = R"sql(
CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_params_by_key ON run_params (key, value);
CREATE INDEX run_tags_by_key ON run_tags (key, value);
)sql";

// Step 5: identity for the workspace server. A user holds one role; a token
// is kept only as the SHA-256 of its secret (token_hash), so the store never
// holds anything that authenticates. Tokens and audit entries keep the user's
// name as text, not a foreign key: removing a user revokes its tokens but
// keeps the audit trail of what it did.
constexpr const char* kIdentitySchema = R"sql(
CREATE TABLE users (
  name       TEXT PRIMARY KEY,
  role       TEXT NOT NULL CHECK (role IN ('reader', 'contributor', 'owner')),
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_name    TEXT NOT NULL,
  label        TEXT NOT NULL,
  token_hash   TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,  -- 0: never
  revoked_at   INTEGER NOT NULL,  -- 0: not revoked
  last_used_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_name);

CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  user_name TEXT NOT NULL,  -- '' when the caller was not authenticated
  method    TEXT NOT NULL,
  route     TEXT NOT NULL,  -- the route's template (/api/v1/runs/{id}), or the path when none matched
  target    TEXT NOT NULL,  -- what the call named (a run id, a user), '' when nothing
  status    INTEGER NOT NULL,
  client    TEXT NOT NULL
);
)sql";

// Step 6: training scripts report over HTTP. A run-scoped token (run_id set)
// may write only that run and its child runs, and only while the run is
// active; its user is who started the run, not necessarily a user of the
// server. metric_batches remembers each metrics batch a client sent (the
// client's own key), written in the transaction that stores its points, so a
// batch retried after a lost answer is stored exactly once.
constexpr const char* kRunReportingSchema = R"sql(
ALTER TABLE api_tokens ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_by_run ON api_tokens (run_id) WHERE run_id != '';

CREATE TABLE metric_batches (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  batch  TEXT NOT NULL,
  points INTEGER NOT NULL,
  PRIMARY KEY (run_id, batch)
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {"initial schema", kInitialSchema},
    {"model and image registries", kRegistrySchema},
    {"reconciler syncs and values", kReconcilerSchema},
    {"run parameters", kRunParamsSchema},
    {"users, API tokens and the audit log", kIdentitySchema},
    {"run-scoped tokens and metric batches", kRunReportingSchema},
};

constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

StatusOr<int64_t> QueryInt(SqliteConnection& connection, const std::string& sql,
                           std::string_view doing) {
  StatusOr<Statement> query = connection.Prepare(sql, doing);
  if (!query.ok()) return query.status();
  StatusOr<bool> row = query->Next(doing);
  if (!row.ok()) return row.status();
  return *row ? query->Int(0) : 0;
}

Status NotAnAmlcStore(const SqliteConnection& connection, const std::string& why) {
  return Status(StatusCode::kInternal, "state store " + connection.path() +
                                           ": not an amlc state store (" + why +
                                           "); point the workspace at another folder");
}

// The stored version, from meta; 0 for an empty database (a new file).
StatusOr<int> StoredVersion(SqliteConnection& connection) {
  constexpr std::string_view kDoing = "reading the schema version";
  StatusOr<int64_t> application_id = QueryInt(connection, "PRAGMA application_id", kDoing);
  if (!application_id.ok()) return application_id.status();
  StatusOr<int64_t> has_meta =
      QueryInt(connection,
               "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", kDoing);
  if (!has_meta.ok()) return has_meta.status();
  if (*has_meta == 0) {
    StatusOr<int64_t> objects = QueryInt(
        connection,
        "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", kDoing);
    if (!objects.ok()) return objects.status();
    if (*objects == 0 && (*application_id == 0 || *application_id == kAmlcApplicationId)) return 0;
    return NotAnAmlcStore(connection, "an SQLite database of another application");
  }
  if (*application_id != kAmlcApplicationId) {
    return NotAnAmlcStore(connection, "its application id is " + std::to_string(*application_id));
  }
  StatusOr<Statement> query =
      connection.Prepare("SELECT value FROM meta WHERE key = 'schema_version'", kDoing);
  if (!query.ok()) return query.status();
  StatusOr<bool> row = query->Next(kDoing);
  if (!row.ok()) return row.status();
  std::string text = *row ? query->Text(0) : "";
  int version = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version < 0) {
    return NotAnAmlcStore(connection, "meta.schema_version is '" + text + "'");
  }
  return version;
}

Status CheckNotNewer(const SqliteConnection& connection, int version) {
  if (version <= kSchemaVersion) return Status::Ok();
  return Status(StatusCode::kInternal, "state store " + connection.path() + " has schema version " +
                                           std::to_string(version) +
                                           ", newer than this amlc understands (up to " +
                                           std::to_string(kSchemaVersion) +
                                           "); use the amlc release that wrote it, or a newer one");
}

// Applies the step after the stored version, if the store is not yet at
// `target`; sets `done` when it is. Re-reads the version under the write lock:
// another process may have migrated since this one looked.
Status MigrateOneStep(SqliteConnection& connection, int target, bool* done) {
  Transaction transaction(&connection);
  if (Status status = transaction.Begin("locking the store to migrate its schema"); !status.ok()) {
    return status;
  }
  StatusOr<int> version = StoredVersion(connection);
  if (!version.ok()) return version.status();
  if (Status status = CheckNotNewer(connection, *version); !status.ok()) return status;
  *done = *version >= target;
  if (*done) return transaction.Commit("ending the schema check");

  const Migration& step = kMigrations[*version];
  std::string doing =
      "migrating the schema to version " + std::to_string(*version + 1) + " (" + step.summary + ")";
  if (Status status = connection.Exec(step.script, doing); !status.ok()) return status;
  StatusOr<Statement> record = connection.Prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      doing);
  if (!record.ok()) return record.status();
  std::string new_version = std::to_string(*version + 1);  // bound without a copy
  record->Bind(1, new_version);
  if (Status status = record->Run(doing); !status.ok()) return status;
  return transaction.Commit(doing);
}

}  // namespace

int SqliteSchemaVersion() { return kSchemaVersion; }

Status MigrateSqliteSchema(SqliteConnection& connection, int target_version) {
  if (target_version < 0 || target_version > kSchemaVersion) {
    return Status(StatusCode::kInvalidArgument,
                  "state store " + connection.path() + ": cannot migrate to schema version " +
                      std::to_string(target_version) + " (this amlc knows 0 to " +
                      std::to_string(kSchemaVersion) + ")");
  }
  // The common case, a current store, needs no write lock: read first, in
  // one snapshot, so a migration committed meanwhile by another process is
  // seen whole or not at all.
  Transaction snapshot(&connection);
  if (Status status = snapshot.BeginRead("reading the schema version"); !status.ok()) {
    return status;
  }
  StatusOr<int> version = StoredVersion(connection);
  if (!version.ok()) return version.status();
  if (Status status = CheckNotNewer(connection, *version); !status.ok()) return status;
  if (Status status = snapshot.Commit("reading the schema version"); !status.ok()) return status;
  bool done = *version >= target_version;
  while (!done) {
    if (Status status = MigrateOneStep(connection, target_version, &done); !status.ok()) {
      return status;
    }
  }
  return Status::Ok();
}

}  // namespace amlc::runtime
