// What only the PostgreSQL state store has: its schema_migrations, its
// refusal of another application's database, its lock timeout, a lost
// connection, the workspace setting that chooses it, the workspace lock as an
// advisory lock and the copy from SQLite. The StateStore contract itself is
// tested on both backends (state_store_test.cc, registry_state_test.cc).

#include <unistd.h>

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_schema.h"
#include "runtime/state/server_records.h"
#include "runtime/state/state_copy.h"
#include "runtime/state/state_store.h"
#include "runtime/workspace/workspace.h"
#include "tests/runtime/state_backends.h"
#include "tests/test_support.h"

using namespace amlc::runtime;
using amlc::Status;
using amlc::StatusCode;
using amlc::testing::NewPostgresDatabase;
using amlc::testing::PostgresQuery;
using amlc::testing::PostgresServerUrl;
using amlc::testing::SpecDir;

namespace {

// These tests need a server; run by hand without one, they pass vacuously.
#define REQUIRE_SERVER()                                     \
  if (PostgresServerUrl().empty()) {                         \
    WARN("no PostgreSQL server given: nothing to test here"); \
    return;                                                  \
  }

std::unique_ptr<StateStore> Open(const std::string& url) {
  auto store = OpenPostgresStore(url);
  INFO(store.status().message());
  REQUIRE(store.ok());
  return std::move(*store);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

long last_holder = -1;
void NoteHolder(long pid) { last_holder = pid; }

}  // namespace

TEST_CASE("a new PostgreSQL database gets every schema step, each recorded once", "[state][postgresql]") {
  REQUIRE_SERVER();
  std::string url = NewPostgresDatabase();
  { Open(url); }
  { Open(url); }  // a second open applies nothing
  CHECK(PostgresQuery(url, "SELECT count(*) FROM schema_migrations") == std::to_string(PostgresSchemaVersion()));
  CHECK(PostgresQuery(url, "SELECT string_agg(summary, ', ' ORDER BY version) FROM schema_migrations") ==
        "initial schema, model and image registries, reconciler syncs and values, run parameters, "
        "users, API tokens and the audit log, run-scoped tokens and metric batches");
}

TEST_CASE("a PostgreSQL database of another application is refused and left as it was", "[state][postgresql]") {
  REQUIRE_SERVER();
  std::string url = NewPostgresDatabase();
  PostgresQuery(url, "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
  auto store = OpenPostgresStore(url);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kInternal);
  INFO(store.status().message());
  CHECK(Contains(store.status().message(), "not an amlc state store"));
  CHECK(PostgresQuery(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1");
}

TEST_CASE("an unreachable PostgreSQL server is kUnavailable, and messages never show the password",
          "[state][postgresql]") {
  // A port nothing listens on: bound, then closed.
  std::string output;
  amlc::testing::Run(
      "/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
      "print(s.getsockname()[1])'",
      &output);
  std::string url = "postgresql://amlc:s3cret@127.0.0.1:" + output.substr(0, output.find('\n')) + "/amlc";
  auto store = OpenStateStore(url);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kUnavailable);
  INFO(store.status().message());
  CHECK(Contains(store.status().message(), "cannot connect"));
  CHECK(Contains(store.status().message(), "postgresql://amlc@127.0.0.1:"));
  CHECK_FALSE(Contains(store.status().message(), "s3cret"));
  CHECK(RedactPostgresUrl("postgres://u:p@h/db") == "postgres://u@h/db");
  CHECK(RedactPostgresUrl("postgresql://h:5432/db") == "postgresql://h:5432/db");
}

TEST_CASE("PostgreSQL errors map to status codes", "[state]") {
  CHECK(PostgresStatus("40001", "could not serialize", "db", "x").code() == StatusCode::kUnavailable);
  CHECK(PostgresStatus("40P01", "deadlock detected", "db", "x").code() == StatusCode::kUnavailable);
  CHECK(PostgresStatus("55P03", "lock timeout", "db", "x").code() == StatusCode::kUnavailable);
  CHECK(PostgresStatus("08006", "connection failure", "db", "x").code() == StatusCode::kUnavailable);
  CHECK(PostgresStatus("23505", "duplicate key", "db", "x").code() == StatusCode::kAlreadyExists);
  CHECK(PostgresStatus("23503", "foreign key", "db", "x").code() == StatusCode::kFailedPrecondition);
  Status other = PostgresStatus("42P01", "relation \"runs\" does not exist", "db", "reading run r1");
  CHECK(other.code() == StatusCode::kInternal);
  CHECK(other.message() == "state store db: reading run r1: relation \"runs\" does not exist");
}

TEST_CASE("a PostgreSQL write that cannot get a row lock in time is kUnavailable", "[state][postgresql]") {
  REQUIRE_SERVER();
  std::string url = NewPostgresDatabase();
  auto store = Open(url);
  // Another session holds the state serial's row, which every resource write bumps.
  auto holder = PgConnection::Open(url);
  REQUIRE(holder.ok());
  REQUIRE((*holder)->ExecScript("BEGIN; UPDATE state_serial SET serial = serial", "holding the row").ok());
  auto start = std::chrono::steady_clock::now();
  Status status = store->PutResource({"compute/local", "compute", "local", "", "d", "{}", "{}", 1});
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(status.code() == StatusCode::kUnavailable);
  INFO(status.message());
  CHECK(Contains(status.message(), "recording resource compute/local"));
  CHECK(waited >= std::chrono::seconds(4));  // it waited for lock_timeout first
  CHECK(store->ListResources().ok());         // readers do not wait for the writer
  REQUIRE((*holder)->ExecScript("ROLLBACK", "letting go").ok());
  CHECK(store->PutResource({"compute/local", "compute", "local", "", "d", "{}", "{}", 1}).ok());
}

TEST_CASE("a PostgreSQL store whose connection the server ended connects again", "[state][postgresql]") {
  REQUIRE_SERVER();
  std::string url = NewPostgresDatabase();
  auto store = Open(url);
  REQUIRE(store->EnsureExperiment("before").ok());
  std::string name = url.substr(url.rfind('/') + 1);
  CHECK(PostgresQuery(url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + name +
                               "' AND pid <> pg_backend_pid()") == "1");
  // The first call after may find the connection gone (kUnavailable); the next connects again.
  Status first = store->EnsureExperiment("after");
  if (!first.ok()) {
    INFO(first.message());
    CHECK(first.code() == StatusCode::kUnavailable);
    REQUIRE(store->EnsureExperiment("after").ok());
  }
  CHECK(store->ListExperiments()->size() == 2);
}

TEST_CASE("HOME/state.url puts a workspace's state in PostgreSQL", "[state][postgresql]") {
  REQUIRE_SERVER();
  SpecDir dir;
  std::string url = NewPostgresDatabase();
  std::string home = dir.str() + "/home";
  std::filesystem::create_directories(home);
  std::ofstream(StateUrlSettingPath(home)) << url << "\n";
  {
    auto workspace = Workspace::Open(home);
    INFO(workspace.status().message());
    REQUIRE(workspace.ok());
    CHECK((*workspace)->state_location() == url);
    REQUIRE((*workspace)->state().EnsureExperiment("shared").ok());
  }
  CHECK(PostgresQuery(url, "SELECT name FROM experiments") == "shared");

  std::ofstream(StateUrlSettingPath(home)) << "mysql://nope\n";
  auto refused = Workspace::Open(home);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  INFO(refused.status().message());
  CHECK(Contains(refused.status().message(), StateUrlSettingPath(home) + ":1:"));
  CHECK(Contains(refused.status().message(), "not a PostgreSQL URL"));
}

TEST_CASE("two workspace homes on one PostgreSQL database share one apply lock", "[state][postgresql]") {
  REQUIRE_SERVER();
  SpecDir dir;
  std::string url = NewPostgresDatabase();
  std::vector<std::string> homes = {dir.str() + "/a", dir.str() + "/b"};  // as on two machines
  for (const std::string& home : homes) {
    std::filesystem::create_directories(home);
    std::ofstream(StateUrlSettingPath(home)) << url << "\n";
  }
  auto held = ApplyLock::Acquire(homes[0], 5, nullptr);
  INFO(held.status().message());
  REQUIRE(held.ok());
  last_holder = -1;
  auto start = std::chrono::steady_clock::now();
  auto refused = ApplyLock::Acquire(homes[1], 1, NoteHolder);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnavailable);
  CHECK(Contains(refused.status().message(), "another apply holds the workspace lock"));
  CHECK(last_holder == getpid());  // the waiting message can name the holder
  CHECK_FALSE(std::filesystem::exists(homes[0] + "/apply.lock"));  // not a file lock

  held->reset();  // released: the other home gets it at once
  auto second = ApplyLock::Acquire(homes[1], 5, nullptr);
  INFO(second.status().message());
  CHECK(second.ok());
}

namespace {

void Ok(const Status& status) {
  INFO(status.message());
  REQUIRE(status.ok());
}

// A SQLite store with rows in every table, through the public interfaces.
void FillEveryTable(const std::string& path) {
  auto store = OpenSqliteStore(path);
  REQUIRE(store.ok());
  StateStore& s = **store;
  Ok(s.PutResource({"compute/local", "compute", "local", "1", "d1", "{\"a\":1}", "{}", 11}));
  RunRecord parent;
  parent.id = "train-1";
  parent.experiment = "iris";
  parent.job_id = "job/train";
  parent.run_key = "key";
  parent.status = RunStatus::kCompleted;
  parent.created_at = 5;
  parent.command = "python train.py --say \"hi\" \\ 'quoted'";
  Ok(s.InsertRun(parent));
  RunRecord child = parent;
  child.id = "train-1-trial-0";
  child.parent_run_id = "train-1";
  child.status = RunStatus::kFailed;
  Ok(s.InsertRun(child));
  Ok(s.SetRunTag("train-1", "best", "yes"));
  Ok(s.SetRunParams("train-1", {{"alpha", "0.5"}, {"unicode", "α→β"}}));
  std::vector<MetricPoint> points;
  for (int i = 0; i < 1200; ++i) points.push_back({"train-1", "loss", i, 1.0 / (i + 3), "", 1000 + i});
  points.push_back({"train-1", "odd", 0, std::numeric_limits<double>::quiet_NaN(), "", 1});
  points.push_back({"train-1", "odd", 1, std::numeric_limits<double>::infinity(), "", 2});
  points.push_back({"train-1", "odd", 2, 0, "a \"text\" {value}, with commas", 3});
  Ok(s.AppendMetrics(points));
  REQUIRE(s.AppendMetricsBatch("train-1-trial-0", "batch-1", {{"train-1-trial-0", "acc", 0, 0.1, "", 1}}).ok());
  REQUIRE(s.StartActivity({0, "run", "job/train", "train-1", "Succeeded", 1, "done", 1, 2}).ok());
  Ok(s.AppendJournal({0, "apply-1", "run", "job/train", "begin", "", "", 1}));
  Ok(s.AppendJournal({0, "apply-1", "run", "job/train", "end", "ok", "train-1", 2}));
  ModelVersionRecord model;
  model.name = "iris";
  model.tags = {{"stage", "prod"}};
  model.properties = {{"auc", "0.9"}};
  model.size_bytes = 3'000'000'000ULL;
  for (int i = 0; i < 3; ++i) REQUIRE(s.RegisterModelVersion(model).ok());
  Ok(s.DeleteModelVersion("iris", 3));  // 3 is never to be given out again
  ImageRecord image;
  image.name = "iris-image";
  image.models = {{"iris", 2}, {"iris", 1}};
  image.tags = {{"os", "debian"}};
  REQUIRE(s.RecordImage(image).ok());
  Ok(s.RecordImagePush("iris-image", 1, "registry.example/iris", "sha256:abc"));
  SyncRecord sync;
  sync.trigger = "startup";
  sync.plan_json = "{\"actions\": []}";
  REQUIRE(s.StartSync(sync).ok());
  Ok(s.SetReconcilerValue("schedule/nightly", "17"));
  auto records = ServerRecords::Open(path);
  REQUIRE(records.ok());
  Ok((*records)->AddUser({"alice", "owner", 1}));
  TokenRecord token;
  token.user = "alice";
  token.token_hash = "ab12";
  REQUIRE((*records)->CreateToken(token).ok());
  Ok((*records)->AppendAudit({0, 1, "alice", "GET", "/api/v1/runs", "", 200, "127.0.0.1"}));
}

// Equal as numbers when both read as numbers (the backends spell floats and
// infinities differently), else as text.
bool SameValue(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* end_a = nullptr;
  char* end_b = nullptr;
  double x = std::strtod(a.c_str(), &end_a);
  double y = std::strtod(b.c_str(), &end_b);
  return !a.empty() && !b.empty() && *end_a == '\0' && *end_b == '\0' && (x == y || (std::isnan(x) && std::isnan(y)));
}

// Every row of `table` as text (NULL as "<null>"), ordered by every column, from SQLite.
std::vector<std::vector<std::string>> SqliteRowsOf(const std::string& path, const std::string& table,
                                                   std::vector<std::string>* columns) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* probe = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("SELECT * FROM " + table).c_str(), -1, &probe, nullptr) == SQLITE_OK);
  columns->clear();
  for (int c = 0; c < sqlite3_column_count(probe); ++c) columns->push_back(sqlite3_column_name(probe, c));
  sqlite3_finalize(probe);
  std::string order;
  for (size_t c = 1; c <= columns->size(); ++c) order += (c > 1 ? ", " : "") + std::to_string(c);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("SELECT * FROM " + table + " ORDER BY " + order).c_str(), -1, &stmt, nullptr) ==
          SQLITE_OK);
  std::vector<std::vector<std::string>> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
        row.push_back("<null>");
      } else if (sqlite3_column_type(stmt, c) == SQLITE_FLOAT) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", sqlite3_column_double(stmt, c));
        row.push_back(buffer);
      } else {
        row.push_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// The same columns of `table`, in the same order, from PostgreSQL.
std::vector<std::vector<std::string>> PostgresRowsOf(const std::string& url, const std::string& table,
                                                     const std::vector<std::string>& columns) {
  std::string list;
  std::string order;
  for (size_t c = 0; c < columns.size(); ++c) {
    list += (c ? ", \"" : "\"") + columns[c] + "\"";
    order += (c ? ", " : "") + std::to_string(c + 1);
  }
  auto connection = PgConnection::Open(url);
  REQUIRE(connection.ok());
  auto result = (*connection)->Exec("SELECT " + list + " FROM " + table + " ORDER BY " + order, "reading back");
  INFO(result.status().message());
  REQUIRE(result.ok());
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < result->rows(); ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
      row.push_back(result->IsNull(r, c) ? "<null>" : result->Text(r, c));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

TEST_CASE("a SQLite store copied into PostgreSQL holds every row of every table", "[state][postgresql]") {
  REQUIRE_SERVER();
  SpecDir dir;
  std::string path = dir.str() + "/state.db";
  FillEveryTable(path);
  std::string url = NewPostgresDatabase();
  auto copied = CopySqliteStoreToPostgres(path, url);
  INFO(copied.status().message());
  REQUIRE(copied.ok());
  REQUIRE(copied->size() == StateStoreTables().size());

  std::vector<std::string> tables = StateStoreTables();
  tables.push_back("state_serial");
  for (const std::string& table : tables) {
    INFO("table " << table);
    std::vector<std::string> columns;
    auto expected = SqliteRowsOf(path, table, &columns);
    auto actual = PostgresRowsOf(url, table, columns);
    CHECK_FALSE(expected.empty());  // the fixture fills every table
    REQUIRE(actual.size() == expected.size());
    for (size_t r = 0; r < expected.size(); ++r) {
      for (size_t c = 0; c < columns.size(); ++c) {
        INFO("row " << r << " column " << columns[c]);
        CHECK(SameValue(expected[r][c], actual[r][c]));
      }
    }
  }

  // The copy carries on where the source left off: numbers never given out twice.
  auto store = Open(url);
  ModelVersionRecord next;
  next.name = "iris";
  CHECK(store->RegisterModelVersion(next)->version == 4);
  CHECK(*store->StartActivity({0, "run", "job/x", "", "Running", 0, "", 3, 0}) == 2);
  CHECK(std::isnan((*store->Metrics("train-1", "odd"))[0].value));

  // A second copy into the same database is refused and changes nothing.
  auto again = CopySqliteStoreToPostgres(path, url);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == StatusCode::kFailedPrecondition);
  CHECK(Contains(again.status().message(), "already holds data"));
  CHECK(PostgresQuery(url, "SELECT count(*) FROM runs") == "2");
}
