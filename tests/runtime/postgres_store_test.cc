// What only the PostgreSQL state store has: its schema_migrations, its
// refusals, its lock timeout, a lost connection, the workspace setting that
// chooses it and the workspace lock as an advisory lock. The StateStore
// contract itself is tested on both backends (state_store_test.cc,
// registry_state_test.cc). Every test here needs the suite's server.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_schema.h"
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

TEST_CASE("a PostgreSQL database written by a newer amlc is refused", "[state][postgresql]") {
  REQUIRE_SERVER();
  std::string url = NewPostgresDatabase();
  { Open(url); }
  std::string newer = std::to_string(PostgresSchemaVersion() + 1);
  PostgresQuery(url, "INSERT INTO schema_migrations VALUES (" + newer + ", 'from the future', 0)");
  auto store = OpenPostgresStore(url);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kInternal);
  INFO(store.status().message());
  CHECK(Contains(store.status().message(), "schema version " + newer));
  CHECK(Contains(store.status().message(), "newer than this amlc"));
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
