#include "runtime/workspace/identity.h"

#include <openssl/rand.h>

#include "base/digest.h"
#include "base/time.h"

namespace amlc::runtime {

namespace {

constexpr size_t kSecretBytes = 20;     // 160 random bits
constexpr size_t kShownPrefixChars = 12;  // "amlc_" and 7 hex digits, as a list shows it

std::string Hex(const unsigned char* bytes, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// A run-scoped token holds for as long as its run is active, whoever its
// user is: the engine revokes it when the run ends, and a run that ended
// without that (an engine killed) is caught here.
StatusOr<Caller> AuthenticateRunToken(ServerRecords& records, const TokenRecord& record) {
  StatusOr<bool> active = records.RunActive(record.run_id);
  if (!active.ok()) return active.status();
  if (!*active) return Status(StatusCode::kFailedPrecondition, "the token's run " + record.run_id + " has ended");
  return Caller{record.user, WorkspaceRole::kContributor, record.id, record.run_id};
}

}  // namespace

StatusOr<WorkspaceRole> ParseUserRole(const std::string& role) {
  WorkspaceRole parsed = RoleNamed(role);
  if (parsed == WorkspaceRole::kNone) {
    return Status(StatusCode::kInvalidArgument,
                  "unknown role '" + role + "' (reader, contributor or owner)");
  }
  return parsed;
}

Status CheckUserName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return Status(StatusCode::kInvalidArgument, "a user name has 1 to 64 characters");
  }
  for (char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '@' || c == '-';
    if (!plain) {
      return Status(StatusCode::kInvalidArgument,
                    "user name '" + name + "': use letters, digits and . _ @ - only");
    }
  }
  return Status::Ok();
}

StatusOr<IssuedToken> IssueToken(ServerRecords& records, const std::string& user, const std::string& label,
                                 int64_t lifetime_seconds, int64_t now_ms, const std::string& run_id) {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Status(StatusCode::kInternal, "cannot make a token: the system has no randomness");
  }
  IssuedToken issued;
  issued.secret = kTokenPrefix + Hex(bytes, sizeof bytes);
  TokenRecord& record = issued.record;
  record.user = user;
  record.label = label;
  record.token_hash = Sha256Hex(issued.secret);
  record.prefix = issued.secret.substr(0, kShownPrefixChars);
  record.created_at = now_ms;
  record.expires_at = lifetime_seconds > 0 ? now_ms + lifetime_seconds * 1000 : 0;
  record.run_id = run_id;
  StatusOr<int64_t> id = records.CreateToken(record);
  if (!id.ok()) return id.status();
  record.id = *id;
  return issued;
}

StatusOr<Caller> Authenticate(ServerRecords& records, const std::string& secret, int64_t now_ms) {
  auto refuse = [](const std::string& why) { return Status(StatusCode::kFailedPrecondition, why); };
  if (secret.rfind(kTokenPrefix, 0) != 0) return refuse("this is not an amlc API token (they start with amlc_)");
  StatusOr<std::optional<TokenRecord>> token = records.FindTokenByHash(Sha256Hex(secret));
  if (!token.ok()) return token.status();
  if (!token->has_value()) return refuse("the token is not known to this workspace");
  const TokenRecord& record = **token;
  if (record.revoked_at != 0) return refuse("the token was revoked at " + IsoUtcMillis(record.revoked_at));
  if (record.expires_at != 0 && record.expires_at <= now_ms) {
    return refuse("the token expired at " + IsoUtcMillis(record.expires_at));
  }
  if (!record.run_id.empty()) return AuthenticateRunToken(records, record);
  StatusOr<std::optional<UserRecord>> user = records.GetUser(record.user);
  if (!user.ok()) return user.status();
  if (!user->has_value()) return refuse("the token's user " + record.user + " was removed");
  return Caller{record.user, RoleNamed((*user)->role), record.id, ""};
}

}  // namespace amlc::runtime
