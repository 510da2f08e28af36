// ServerRecords on SQLite. The implementation notes at the top of
// sqlite_store.cc hold here.

#include "runtime/state/server_records.h"

#include "runtime/state/sqlite_schema.h"
#include "runtime/state/sqlite_store_internal.h"

namespace amlc::runtime {

using internal::Execute;
using internal::Query;
using internal::QueryFirst;

namespace {

constexpr const char* kUserColumns = "name, role, created_at";
constexpr const char* kTokenColumns =
    "id, user_name, label, token_hash, prefix, created_at, expires_at, revoked_at, last_used_at, run_id";
constexpr const char* kAuditColumns = "id, at, user_name, method, route, target, status, client";

UserRecord ReadUser(const Statement& row) { return {row.Text(0), row.Text(1), row.Int(2)}; }

TokenRecord ReadToken(const Statement& row) {
  TokenRecord token;
  token.id = row.Int(0);
  token.user = row.Text(1);
  token.label = row.Text(2);
  token.token_hash = row.Text(3);
  token.prefix = row.Text(4);
  token.created_at = row.Int(5);
  token.expires_at = row.Int(6);
  token.revoked_at = row.Int(7);
  token.last_used_at = row.Int(8);
  token.run_id = row.Text(9);
  return token;
}

AuditRecord ReadAudit(const Statement& row) {
  AuditRecord entry;
  entry.id = row.Int(0);
  entry.at = row.Int(1);
  entry.user = row.Text(2);
  entry.method = row.Text(3);
  entry.route = row.Text(4);
  entry.target = row.Text(5);
  entry.status = static_cast<int>(row.Int(6));
  entry.client = row.Text(7);
  return entry;
}

Status NoSuch(const std::string& what) {
  return Status(StatusCode::kNotFound, "no " + what + " in the workspace");
}

}  // namespace

StatusOr<std::unique_ptr<ServerRecords>> ServerRecords::Open(const std::string& state_db) {
  StatusOr<std::unique_ptr<SqliteConnection>> connection = SqliteConnection::Open(state_db);
  if (!connection.ok()) return connection.status();
  if (Status status = MigrateSqliteSchema(**connection); !status.ok()) return status;
  return std::unique_ptr<ServerRecords>(new ServerRecords(std::move(*connection)));
}

ServerRecords::ServerRecords(std::unique_ptr<SqliteConnection> connection) : connection_(std::move(connection)) {}

ServerRecords::~ServerRecords() = default;

StatusOr<std::map<std::string, int64_t>> ServerRecords::CountRunsByStatus() {
  std::lock_guard lock(mutex_);
  auto rows = Query<std::pair<std::string, int64_t>>(
      *connection_, "SELECT status, count(*) FROM runs GROUP BY status", "counting runs by status", [](Statement&) {},
      [](const Statement& row) { return std::pair{row.Text(0), row.Int(1)}; });
  if (!rows.ok()) return rows.status();
  return std::map<std::string, int64_t>(rows->begin(), rows->end());
}

Status ServerRecords::AddUser(const UserRecord& user) {
  std::lock_guard lock(mutex_);
  auto known = QueryFirst<int64_t>(*connection_, "SELECT 1 FROM users WHERE name = ?1", "reading user " + user.name,
                                   [&](Statement& s) { s.Bind(1, user.name); },
                                   [](const Statement& row) { return row.Int(0); });
  if (!known.ok()) return known.status();
  if (known->has_value()) {
    return Status(StatusCode::kAlreadyExists, "user " + user.name + " exists already (users set-role changes its role)");
  }
  return Execute(*connection_, "INSERT INTO users (name, role, created_at) VALUES (?1, ?2, ?3)",
                 "adding user " + user.name,
                 [&](Statement& s) { s.Bind(1, user.name).Bind(2, user.role).Bind(3, user.created_at); });
}

Status ServerRecords::SetUserRole(const std::string& name, const std::string& role) {
  std::lock_guard lock(mutex_);
  Status status = Execute(*connection_, "UPDATE users SET role = ?2 WHERE name = ?1", "setting the role of " + name,
                          [&](Statement& s) { s.Bind(1, name).Bind(2, role); });
  if (!status.ok()) return status;
  if (connection_->Changes() == 0) return NoSuch("user " + name);
  return Status::Ok();
}

Status ServerRecords::RemoveUser(const std::string& name, int64_t now) {
  std::string doing = "removing user " + name;
  std::lock_guard lock(mutex_);
  Transaction transaction(connection_.get());
  if (Status status = transaction.Begin(doing); !status.ok()) return status;
  Status status = Execute(*connection_, "DELETE FROM users WHERE name = ?1", doing,
                          [&](Statement& s) { s.Bind(1, name); });
  if (!status.ok()) return status;
  if (connection_->Changes() == 0) return NoSuch("user " + name);
  status = Execute(*connection_, "UPDATE api_tokens SET revoked_at = ?2 WHERE user_name = ?1 AND revoked_at = 0",
                   doing, [&](Statement& s) { s.Bind(1, name).Bind(2, now); });
  if (!status.ok()) return status;
  return transaction.Commit(doing);
}

StatusOr<std::optional<UserRecord>> ServerRecords::GetUser(const std::string& name) {
  std::lock_guard lock(mutex_);
  return QueryFirst<UserRecord>(*connection_, std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?1",
                                "reading user " + name, [&](Statement& s) { s.Bind(1, name); }, ReadUser);
}

StatusOr<std::vector<UserRecord>> ServerRecords::ListUsers() {
  std::lock_guard lock(mutex_);
  return Query<UserRecord>(*connection_, std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name",
                           "listing users", [](Statement&) {}, ReadUser);
}

StatusOr<int64_t> ServerRecords::CreateToken(const TokenRecord& token) {
  std::string doing = "creating a token for " + token.user;
  std::lock_guard lock(mutex_);
  auto known = QueryFirst<int64_t>(*connection_, "SELECT 1 FROM users WHERE name = ?1", doing,
                                   [&](Statement& s) { s.Bind(1, token.user); },
                                   [](const Statement& row) { return row.Int(0); });
  if (!known.ok()) return known.status();
  if (!known->has_value() && token.run_id.empty()) return NoSuch("user " + token.user);
  Status status = Execute(
      *connection_,
      "INSERT INTO api_tokens (user_name, label, token_hash, prefix, created_at, expires_at, revoked_at, "
      "last_used_at, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, ?7)",
      doing, [&](Statement& s) {
        s.Bind(1, token.user).Bind(2, token.label).Bind(3, token.token_hash).Bind(4, token.prefix);
        s.Bind(5, token.created_at).Bind(6, token.expires_at).Bind(7, token.run_id);
      });
  if (!status.ok()) return status;
  return connection_->LastInsertRowid();
}

StatusOr<std::vector<TokenRecord>> ServerRecords::ListTokens(const std::string& user) {
  std::lock_guard lock(mutex_);
  return Query<TokenRecord>(
      *connection_,
      std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE ?1 = '' OR user_name = ?1 ORDER BY id",
      "listing tokens", [&](Statement& s) { s.Bind(1, user); }, ReadToken);
}

StatusOr<std::optional<TokenRecord>> ServerRecords::GetToken(int64_t id) {
  std::lock_guard lock(mutex_);
  return QueryFirst<TokenRecord>(*connection_,
                                 std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE id = ?1",
                                 "reading token " + std::to_string(id), [&](Statement& s) { s.Bind(1, id); },
                                 ReadToken);
}

StatusOr<std::optional<TokenRecord>> ServerRecords::FindTokenByHash(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  return QueryFirst<TokenRecord>(*connection_,
                                 std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE token_hash = ?1",
                                 "looking up a token", [&](Statement& s) { s.Bind(1, token_hash); }, ReadToken);
}

Status ServerRecords::RevokeToken(int64_t id, int64_t now) {
  std::string doing = "revoking token " + std::to_string(id);
  std::lock_guard lock(mutex_);
  Status status = Execute(*connection_,
                          "UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ?2 ELSE revoked_at END "
                          "WHERE id = ?1",
                          doing, [&](Statement& s) { s.Bind(1, id).Bind(2, now); });
  if (!status.ok()) return status;
  if (connection_->Changes() == 0) return NoSuch("token " + std::to_string(id));
  return Status::Ok();
}

Status ServerRecords::TouchToken(int64_t id, int64_t now) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                 "noting the use of token " + std::to_string(id), [&](Statement& s) { s.Bind(1, id).Bind(2, now); });
}

Status ServerRecords::RevokeRunTokens(const std::string& run_id, int64_t now) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_, "UPDATE api_tokens SET revoked_at = ?2 WHERE run_id = ?1 AND revoked_at = 0",
                 "revoking the tokens of run " + run_id, [&](Statement& s) { s.Bind(1, run_id).Bind(2, now); });
}

StatusOr<bool> ServerRecords::RunActive(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  auto active = QueryFirst<int64_t>(
      *connection_, "SELECT 1 FROM runs WHERE id = ?1 AND status IN ('Queued', 'Running')",
      "reading the status of run " + run_id, [&](Statement& s) { s.Bind(1, run_id); },
      [](const Statement& row) { return row.Int(0); });
  if (!active.ok()) return active.status();
  return active->has_value();
}

Status ServerRecords::AppendAudit(const AuditRecord& entry) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_,
                 "INSERT INTO audit_log (at, user_name, method, route, target, status, client) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 "recording a call in the audit log", [&](Statement& s) {
                   s.Bind(1, entry.at).Bind(2, entry.user).Bind(3, entry.method).Bind(4, entry.route);
                   s.Bind(5, entry.target).Bind(6, static_cast<int64_t>(entry.status)).Bind(7, entry.client);
                 });
}

StatusOr<std::vector<AuditRecord>> ServerRecords::ListAudit(int limit) {
  std::lock_guard lock(mutex_);
  return Query<AuditRecord>(
      *connection_, std::string("SELECT ") + kAuditColumns + " FROM audit_log ORDER BY id DESC LIMIT ?1",
      "reading the audit log", [&](Statement& s) { s.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1)); },
      ReadAudit);
}

}  // namespace amlc::runtime
