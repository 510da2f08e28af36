#ifndef AMLC_RUNTIME_STATE_SERVER_RECORDS_H_
#define AMLC_RUNTIME_STATE_SERVER_RECORDS_H_

// What the workspace server keeps in the workspace's state store beside
// StateStore's records: users and their roles, API tokens (as SHA-256
// hashes, never the secrets) and the audit log of every call; and the run
// counts its /metrics reads. Its own connection to the same SQLite file
// (WAL: readers never wait for the writer), opened after the workspace, whose
// store has migrated the schema.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

class SqliteConnection;

/// The state store's file in a workspace home.
inline std::string StateStorePath(const std::string& workspace_home) { return workspace_home + "/state.db"; }

/// A person or machine the workspace server knows, with the one role it holds
/// ("reader", "contributor" or "owner").
struct UserRecord {
  std::string name;
  std::string role;
  int64_t created_at = 0;  // unix ms
};

/// An API token as stored: never its secret, only the secret's SHA-256.
struct TokenRecord {
  int64_t id = 0;            // assigned by CreateToken
  std::string user;
  std::string label;         // --name, for the owner's memory ("ci", "laptop")
  std::string token_hash;    // hex SHA-256 of the whole secret
  std::string prefix;        // the secret's first characters, to recognise it in a list
  int64_t created_at = 0;    // unix ms
  int64_t expires_at = 0;    // 0: never
  int64_t revoked_at = 0;    // 0: not revoked
  int64_t last_used_at = 0;  // 0: never used
  /// A run-scoped token: writes only this run and its child runs while the
  /// run is active (runtime/workspace/identity.h); "" for a user's token.
  std::string run_id;
};

/// One call the workspace server answered.
struct AuditRecord {
  int64_t id = 0;
  int64_t at = 0;            // unix ms
  std::string user;          // "" when the caller was not authenticated
  std::string method;
  std::string route;         // "/api/v1/runs/{id}"
  std::string target;        // what the call named ("train-2026…", "alice"), "" when nothing
  int status = 0;
  std::string client;        // the peer's address
};

/// Thread-safe: one connection, each call under a mutex.
class ServerRecords {
 public:
  /// Opens the records in the state store file `state_db` (HOME/state.db),
  /// migrating its schema when needed.
  static StatusOr<std::unique_ptr<ServerRecords>> Open(const std::string& state_db);
  ~ServerRecords();

  // Users. AddUser of a known name is kAlreadyExists; SetUserRole and
  // RemoveUser of an unknown one kNotFound. RemoveUser revokes the user's
  // tokens in the same transaction.
  Status AddUser(const UserRecord& user);
  Status SetUserRole(const std::string& name, const std::string& role);
  Status RemoveUser(const std::string& name, int64_t now);
  StatusOr<std::optional<UserRecord>> GetUser(const std::string& name);
  StatusOr<std::vector<UserRecord>> ListUsers();

  // Tokens. CreateToken stores the hash and returns the id; the user must
  // exist (kNotFound), unless the token is run-scoped. RevokeToken of an unknown id is kNotFound; revoking
  // twice keeps the first time.
  StatusOr<int64_t> CreateToken(const TokenRecord& token);
  /// Tokens of `user` ("" = everyone's), oldest first, revoked ones included.
  StatusOr<std::vector<TokenRecord>> ListTokens(const std::string& user);
  StatusOr<std::optional<TokenRecord>> GetToken(int64_t id);
  StatusOr<std::optional<TokenRecord>> FindTokenByHash(const std::string& token_hash);
  Status RevokeToken(int64_t id, int64_t now);
  Status TouchToken(int64_t id, int64_t now);
  /// Revokes every run-scoped token of `run_id` still valid (its run ended).
  Status RevokeRunTokens(const std::string& run_id, int64_t now);
  /// Whether run `run_id` is recorded and Queued or Running.
  StatusOr<bool> RunActive(const std::string& run_id);

  // The audit log.
  Status AppendAudit(const AuditRecord& entry);
  /// The newest `limit` entries (0: all), newest first.
  StatusOr<std::vector<AuditRecord>> ListAudit(int limit);

  /// How many runs there are of each status (statuses with none left out),
  /// counted in SQL rather than by loading every run.
  StatusOr<std::map<std::string, int64_t>> CountRunsByStatus();

 private:
  explicit ServerRecords(std::unique_ptr<SqliteConnection> connection);
  std::mutex mutex_;
  std::unique_ptr<SqliteConnection> connection_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_SERVER_RECORDS_H_
