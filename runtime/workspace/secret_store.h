#ifndef AMLC_RUNTIME_WORKSPACE_SECRET_STORE_H_
#define AMLC_RUNTIME_WORKSPACE_SECRET_STORE_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

/// What may be shown about a secret: never its value.
struct SecretInfo {
  std::string name;
  int64_t updated_at = 0;  // unix milliseconds
  std::string updated_by;
};

/// Where the secret store's key comes from. By default a random key in the
/// workspace (HOME/secrets/master.key): it protects the values from anyone
/// who reads secrets.json alone (a backup, a copied file), not from someone
/// who can read the whole workspace folder as its owner. A key file outside
/// the workspace, or a key derived from a passphrase, keeps the values
/// sealed even for a reader of the whole workspace.
struct SecretKeySource {
  enum class Kind { kWorkspace, kFile, kPassphrase };
  Kind kind = Kind::kWorkspace;
  std::string key_file;    // kFile: a 32-byte key, readable by its owner only
  std::string passphrase;  // kPassphrase: scrypt (OpenSSL) with a salt kept in secrets.json
};

/// From the environment: AMLC_SECRET_KEY_FILE, else AMLC_SECRET_PASSPHRASE,
/// else the workspace's key. kInvalidArgument when both are set.
StatusOr<SecretKeySource> SecretKeySourceFromEnvironment();

/// The workspace's encrypted secret store (Azure ML's key vault): named
/// values kept in HOME/secrets/secrets.json, each sealed with AES-256-GCM
/// under the 32-byte key in HOME/secrets/master.key, a fresh random nonce per
/// value and the secret's name as additional authenticated data (so a value
/// moved to another name does not decrypt). The folder is 0700, both files
/// 0600. Every change re-reads the file under an flock and replaces it
/// atomically, so several stores (threads or processes) on one home never
/// lose each other's writes. No message ever contains a value.
class SecretStore {
 public:
  SecretStore(SecretStore&&) = default;
  SecretStore& operator=(SecretStore&&) = default;
  ~SecretStore();

  /// Opens the store in `workspace_home`, creating its folder and key on
  /// first use. kFailedPrecondition when the key file is readable by others.
  static StatusOr<SecretStore> Open(const std::string& workspace_home);
  /// Opens with the key from `source`. The store records which kind of key
  /// sealed it and a check value: opening it with another kind, or a wrong
  /// key or passphrase, is kFailedPrecondition saying which and what to do.
  static StatusOr<SecretStore> Open(const std::string& workspace_home, const SecretKeySource& source);

  /// Sets (or replaces) a secret; `user` is recorded as who changed it.
  /// kInvalidArgument when the name is not [A-Za-z0-9_.-]{1,128}.
  Status Set(const std::string& name, const std::string& value, const std::string& user);
  /// A secret's value; kNotFound when there is none, kInternal when it does
  /// not decrypt (the file was changed or the key replaced).
  StatusOr<std::string> Get(const std::string& name) const;
  /// Every secret's name and when and by whom it was last set, by name.
  StatusOr<std::vector<SecretInfo>> List() const;
  /// Removes a secret; kNotFound when there is none.
  Status Delete(const std::string& name);

  /// Where the store keeps its files: HOME/secrets.
  const std::string& dir() const { return dir_; }

 private:
  using Key = std::array<unsigned char, 32>;
  SecretStore(std::string dir, const Key& key) : dir_(std::move(dir)), key_(key) {}

  std::string dir_;
  Key key_{};
};

/// Whether `name` is a valid secret name: [A-Za-z0-9_.-]{1,128}.
bool IsValidSecretName(const std::string& name);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_SECRET_STORE_H_
