#include "cli/state_commands.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/output.h"
#include "runtime/state/postgres_connection.h"
#include "runtime/state/state_copy.h"

namespace amlc::cli {
namespace {

struct MigrateOptions {
  std::string from;
  std::string to;
};

// "sqlite:PATH" or a bare PATH: the SQLite file; "" when it is not one.
std::string SqlitePath(const std::string& from) {
  std::string path = from.rfind("sqlite:", 0) == 0 ? from.substr(7) : from;
  return std::filesystem::is_regular_file(path) ? path : "";
}

void Migrate(const MigrateOptions& options, int& exit_code) {
  std::string path = SqlitePath(options.from);
  if (path.empty()) {
    PrintError("--from " + options.from + ": no such SQLite state store; write --from sqlite:WORKSPACE/state.db");
    exit_code = kExitUsage;
    return;
  }
  if (!runtime::IsPostgresUrl(options.to)) {
    PrintError("--to " + runtime::RedactPostgresUrl(options.to) +
               ": not a PostgreSQL URL; write e.g. --to postgresql://amlc@db.example:5432/amlc");
    exit_code = kExitUsage;
    return;
  }
  auto start = std::chrono::steady_clock::now();
  auto copied = runtime::CopySqliteStoreToPostgres(path, options.to);
  if (!copied.ok()) {
    PrintError(copied.status().message());
    exit_code = kExitSpecErrors;
    return;
  }
  int64_t total = 0;
  for (const auto& [table, rows] : *copied) {
    std::printf("%-18s %lld\n", table.c_str(), static_cast<long long>(rows));
    total += rows;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("copied %lld rows of %zu tables from %s to %s in %.2f s\n", static_cast<long long>(total),
              copied->size(), path.c_str(), runtime::RedactPostgresUrl(options.to).c_str(), seconds);
  std::printf("to use it, write the URL into the workspace's state.url (see the README)\n");
  exit_code = kExitOk;
}

}  // namespace

void AddStateCommands(CLI::App& app, int& exit_code) {
  CLI::App* state = app.add_subcommand("state", "Move a workspace's state store between backends");
  state->require_subcommand(1);
  auto options = std::make_shared<MigrateOptions>();
  CLI::App* migrate = state->add_subcommand(
      "migrate", "Copy a SQLite state store, every table and row, into an empty PostgreSQL database");
  migrate->add_option("--from", options->from, "The SQLite store: sqlite:PATH (a workspace's state.db)")->required();
  migrate->add_option("--to", options->to, "The PostgreSQL database: postgresql://USER@HOST:PORT/DB")->required();
  migrate->callback([options, &exit_code] { Migrate(*options, exit_code); });
}

}  // namespace amlc::cli
