#ifndef AMLC_TESTS_RUNTIME_STATE_BACKENDS_H_
#define AMLC_TESTS_RUNTIME_STATE_BACKENDS_H_

// The state store tests run once per backend: SQLite (a file in the test's
// folder) and PostgreSQL (a database of their own on the server the suite
// was given). A test tagged [postgresql] gets the server CTest starts
// (tests/servers/postgresql.sh, fixture "postgresql").

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "runtime/state/postgres_connection.h"
#include "tests/test_support.h"

namespace amlc::testing {

/// The PostgreSQL server's URL: $AMLC_TEST_POSTGRESQL_URL, else the url file
/// the fixture wrote in $AMLC_TEST_POSTGRESQL_DIR; "" when neither is set
/// (the test binary run by hand), and PostgreSQL is left out. A fixture whose
/// server could not start fails the test with the reason it wrote.
inline std::string PostgresServerUrl() {
  if (const char* url = std::getenv("AMLC_TEST_POSTGRESQL_URL"); url != nullptr && *url != '\0') return url;
  const char* dir = std::getenv("AMLC_TEST_POSTGRESQL_DIR");
  if (dir == nullptr || *dir == '\0') return "";
  std::string url;
  std::getline(std::ifstream(std::string(dir) + "/url"), url);
  if (url.empty()) {
    std::string why;
    std::getline(std::ifstream(std::string(dir) + "/unavailable"), why);
    FAIL("no PostgreSQL server in " << dir << ": " << (why.empty() ? "its start step did not run" : why));
  }
  return url;
}

/// "sqlite", and "postgresql" when the suite has a server.
inline std::vector<std::string> StateBackends() {
  std::vector<std::string> backends = {"sqlite"};
  if (!PostgresServerUrl().empty()) backends.push_back("postgresql");
  return backends;
}

/// A new, empty database on the suite's server; its URL.
inline std::string NewPostgresDatabase() {
  static std::atomic<int> counter{0};
  std::string server = PostgresServerUrl();
  std::string name = "amlc_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  auto connection = runtime::PgConnection::Open(server);
  INFO(connection.status().message());
  REQUIRE(connection.ok());
  auto created = (*connection)->Exec("CREATE DATABASE " + name, "creating a test database");
  INFO(created.status().message());
  REQUIRE(created.ok());
  return server.substr(0, server.rfind('/') + 1) + name;
}

/// The first column of the first row `sql` gives in the database at `url`
/// ("" for none or NULL), over a connection of its own, as another program's.
inline std::string PostgresQuery(const std::string& url, const std::string& sql) {
  auto connection = runtime::PgConnection::Open(url);
  INFO(connection.status().message());
  REQUIRE(connection.ok());
  auto result = (*connection)->Exec(sql, "a test's query");
  INFO(result.status().message());
  REQUIRE(result.ok());
  return result->rows() > 0 && !result->IsNull(0, 0) ? result->Text(0, 0) : "";
}

/// Where a test on `backend` opens its store: a file in `dir`, or a new database.
inline std::string StoreLocation(const std::string& backend, const SpecDir& dir) {
  return backend == "postgresql" ? NewPostgresDatabase() : dir.str() + "/state.db";
}

}  // namespace amlc::testing

/// In a test case: the store location for each backend in turn (the test
/// case runs once per backend, the backend named in its output).
#define AMLC_EACH_STORE_LOCATION(dir)                                                                \
  [&] {                                                                                              \
    std::string backend = GENERATE(Catch::Generators::from_range(amlc::testing::StateBackends())); \
    UNSCOPED_INFO("state store backend: " << backend);                                              \
    return amlc::testing::StoreLocation(backend, dir);                                               \
  }()

#endif  // AMLC_TESTS_RUNTIME_STATE_BACKENDS_H_
