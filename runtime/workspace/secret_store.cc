// The workspace's secret store: AES-256-GCM sealed values in one JSON file,
// the key beside it, both readable by the owner only.
#include "runtime/workspace/secret_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "base/clock.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime {

namespace {

using json = nlohmann::json;

constexpr size_t kKeyBytes = 32;
constexpr int kNonceBytes = 12;  // GCM's native nonce size
constexpr int kTagBytes = 16;
constexpr int kFormatVersion = 1;

std::string ErrnoText() { return std::strerror(errno); }

// ---- small file helpers ----------------------------------------------------

// The store's folder, created 0700; an existing one looser than that is
// tightened, since it holds the key.
Status EnsurePrivateDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return {StatusCode::kUnavailable, "cannot create the secret store folder " + dir + ": " + ErrnoText()};
  }
  struct stat info {};
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return {StatusCode::kFailedPrecondition, "the secret store path " + dir + " is not a folder"};
  }
  if ((info.st_mode & 0077) != 0 && chmod(dir.c_str(), 0700) != 0) {
    return {StatusCode::kFailedPrecondition,
            "the secret store folder " + dir + " is open to others and cannot be restricted: " + ErrnoText()};
  }
  return Status::Ok();
}

// A rename is durable only once its folder is synced.
void SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

// Held while the store's files change: an exclusive flock on
// secrets.lock. flock locks belong to an open file description, so two
// stores in one process exclude each other just as two processes do.
class StoreLock {
 public:
  static StatusOr<std::unique_ptr<StoreLock>> Acquire(const std::string& dir) {
    std::string path = dir + "/secrets.lock";
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status{StatusCode::kUnavailable, "cannot open " + path + ": " + ErrnoText()};
    while (flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      Status status{StatusCode::kUnavailable, "cannot lock " + path + ": " + ErrnoText()};
      close(fd);
      return status;
    }
    return std::unique_ptr<StoreLock>(new StoreLock(fd));
  }
  ~StoreLock() {
    flock(fd_, LOCK_UN);
    close(fd_);
  }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;
};

// ---- the key -----------------------------------------------------------------

std::string KeyPath(const std::string& dir) { return dir + "/master.key"; }

// Creates the key exactly once (O_EXCL): a second creator gets EEXIST and
// reads the first one's key instead. Called under the store lock, so no
// reader sees the file before its bytes are written.
StatusOr<bool> CreateKeyIfMissing(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    return Status{StatusCode::kUnavailable, "cannot create the secret store key " + path + ": " + ErrnoText()};
  }
  unsigned char key[kKeyBytes];
  bool ok = RAND_bytes(key, sizeof key) == 1 && fchmod(fd, 0600) == 0 &&
            snapshot::WriteAll(fd, std::string_view(reinterpret_cast<const char*>(key), sizeof key), path).ok() &&
            fsync(fd) == 0;
  OPENSSL_cleanse(key, sizeof key);
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    return Status{StatusCode::kInternal, "cannot write the secret store key " + path};
  }
  return true;
}

// The key, refusing one that others could read (as ssh refuses such keys).
StatusOr<std::array<unsigned char, kKeyBytes>> ReadKey(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status{StatusCode::kUnavailable, "cannot open the secret store key " + path + ": " + ErrnoText()};
  struct stat info {};
  fstat(fd, &info);
  if ((info.st_mode & 0077) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status{StatusCode::kFailedPrecondition, "the secret store key " + path + " is readable by others (mode " +
                                                       mode + "); restrict it with: chmod 600 " + path};
  }
  std::array<unsigned char, kKeyBytes> key{};
  unsigned char extra = 0;
  ssize_t got = read(fd, key.data(), key.size());
  bool longer = got == static_cast<ssize_t>(key.size()) && read(fd, &extra, 1) > 0;
  close(fd);
  if (got != static_cast<ssize_t>(key.size()) || longer) {
    OPENSSL_cleanse(key.data(), key.size());
    return Status{StatusCode::kInternal, "the secret store key " + path +
                                             " is not 32 bytes long (it was changed outside amlc)"};
  }
  return key;
}

// ---- the secrets file ----------------------------------------------------------

std::string SecretsPath(const std::string& dir) { return dir + "/secrets.json"; }

json EmptyDocument() { return {{"version", kFormatVersion}, {"cipher", "AES-256-GCM"}, {"secrets", json::object()}}; }

// The whole file; an absent one is an empty store.
StatusOr<json> ReadDocument(const std::string& dir) {
  std::string path = SecretsPath(dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (access(path.c_str(), F_OK) != 0) return EmptyDocument();
    return Status{StatusCode::kUnavailable, "cannot read " + path};
  }
  std::stringstream text;
  text << in.rdbuf();
  json document = json::parse(text.str(), nullptr, false);
  if (!document.is_object() || !document.contains("secrets") || !document["secrets"].is_object()) {
    return Status{StatusCode::kInternal,
                  "the secret store " + path + " is not a valid secrets file (it was changed outside amlc)"};
  }
  return document;
}

// Replaces the file atomically (temp + rename) so a reader sees the old or
// the new store, never half of one; synced, file and folder, before it counts.
Status WriteDocument(const std::string& dir, const json& document) {
  std::string path = SecretsPath(dir);
  // Replace, not throw, should a user name carry invalid UTF-8.
  std::string text = document.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  Status written = snapshot::WriteFileAtomically(path, 0600, [&](int fd) {
    Status status = snapshot::WriteAll(fd, text, path);
    if (status.ok() && fsync(fd) != 0) status = {StatusCode::kUnavailable, "cannot write " + path + ": " + ErrnoText()};
    return status;
  });
  if (written.ok()) SyncDir(dir);
  return written;
}

// ---- AES-256-GCM ----------------------------------------------------------------

std::string Hex(const unsigned char* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

bool Unhex(const std::string& text, std::string& out) {
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = nibble(text[i]), low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out += static_cast<char>(high << 4 | low);
  }
  return true;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext NewContext() { return CipherContext(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

const unsigned char* Bytes(const std::string& text) { return reinterpret_cast<const unsigned char*>(text.data()); }

// A string field of an entry; "" when absent or not a string (a file edited
// by hand must give an error, never an exception).
std::string StringField(const json& entry, const char* field) {
  if (!entry.is_object()) return "";
  auto found = entry.find(field);
  return found != entry.end() && found->is_string() ? found->get<std::string>() : "";
}

// A value sealed under `key` with a fresh nonce and `name` as the AAD, as
// the JSON entry the file keeps: nonce, ciphertext and tag in hex.
StatusOr<json> Seal(const std::array<unsigned char, kKeyBytes>& key, const std::string& name,
                    const std::string& value) {
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return Status{StatusCode::kInternal, "no random bytes for a nonce"};
  CipherContext context = NewContext();
  std::string ciphertext(value.size(), '\0');
  unsigned char tag[kTagBytes];
  int length = 0, final_length = 0;
  auto* out = reinterpret_cast<unsigned char*>(ciphertext.data());
  bool ok = context && EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_EncryptInit_ex(context.get(), nullptr, nullptr, key.data(), nonce) == 1 &&
            EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(name), static_cast<int>(name.size())) == 1 &&
            EVP_EncryptUpdate(context.get(), out, &length, Bytes(value), static_cast<int>(value.size())) == 1 &&
            EVP_EncryptFinal_ex(context.get(), out + length, &final_length) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  if (!ok) return Status{StatusCode::kInternal, "cannot encrypt secret '" + name + "' (OpenSSL failed)"};
  return json{{"nonce", Hex(nonce, sizeof nonce)},
              {"ciphertext", Hex(out, static_cast<size_t>(length + final_length))},
              {"tag", Hex(tag, sizeof tag)}};
}

Status Undecryptable(const std::string& name) {
  return {StatusCode::kInternal,
          "secret '" + name + "' cannot be decrypted (the store was changed or its key replaced)"};
}

// The value of an entry Seal made; any change to nonce, ciphertext, tag,
// name or key fails GCM's check.
StatusOr<std::string> Unseal(const std::array<unsigned char, kKeyBytes>& key, const std::string& name,
                             const json& entry) {
  std::string nonce, ciphertext, tag;
  if (!Unhex(StringField(entry, "nonce"), nonce) || !Unhex(StringField(entry, "ciphertext"), ciphertext) ||
      !Unhex(StringField(entry, "tag"), tag) ||
      nonce.size() != kNonceBytes || tag.size() != kTagBytes) {
    return Undecryptable(name);
  }
  CipherContext context = NewContext();
  std::string value(ciphertext.size(), '\0');
  int length = 0, final_length = 0;
  auto* out = reinterpret_cast<unsigned char*>(value.data());
  bool ok = context && EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_DecryptInit_ex(context.get(), nullptr, nullptr, key.data(), Bytes(nonce)) == 1 &&
            EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(name), static_cast<int>(name.size())) == 1 &&
            EVP_DecryptUpdate(context.get(), out, &length, Bytes(ciphertext), static_cast<int>(ciphertext.size())) ==
                1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(context.get(), out + length, &final_length) == 1;
  if (!ok) {
    OPENSSL_cleanse(value.data(), value.size());
    return Undecryptable(name);
  }
  value.resize(static_cast<size_t>(length + final_length));
  return value;
}

// ---- names -----------------------------------------------------------------------

Status CheckName(const std::string& name) {
  if (IsValidSecretName(name)) return Status::Ok();
  return {StatusCode::kInvalidArgument, "invalid secret name '" + name.substr(0, 128) +
                                            "': use 1 to 128 letters, digits, '_', '.' or '-'"};
}

Status NoSuchSecret(const std::string& name) {
  return {StatusCode::kNotFound, "no secret '" + name + "' in the workspace; set it with: amlc secrets set " + name};
}

// ---- the key's source -------------------------------------------------------------

using KeyBytes = std::array<unsigned char, kKeyBytes>;
using Kind = SecretKeySource::Kind;

const char* KindName(Kind kind) {
  return kind == Kind::kFile ? "file" : kind == Kind::kPassphrase ? "passphrase" : "workspace";
}

std::string KindSetting(Kind kind) {
  return kind == Kind::kFile         ? "AMLC_SECRET_KEY_FILE"
         : kind == Kind::kPassphrase ? "AMLC_SECRET_PASSPHRASE"
                                     : "the workspace's key (neither AMLC_SECRET_KEY_FILE nor AMLC_SECRET_PASSPHRASE)";
}

// scrypt at N=2^15, r=8, p=1: 32 MiB and a tenth of a second per open,
// so guessing passphrases from a stolen secrets.json is slow.
constexpr uint64_t kScryptN = 1u << 15, kScryptR = 8, kScryptP = 1;

StatusOr<KeyBytes> DeriveKey(const std::string& passphrase, const std::string& salt) {
  KeyBytes key{};
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), Bytes(salt), salt.size(), kScryptN, kScryptR, kScryptP,
                     64u << 20, key.data(), key.size()) != 1) {
    return Status{StatusCode::kInternal, "cannot derive the secret store key from AMLC_SECRET_PASSPHRASE (scrypt failed)"};
  }
  return key;
}

// The passphrase's salt: the one the store recorded, else a fresh one.
StatusOr<std::string> SaltOf(const json& recorded) {
  std::string salt;
  if (recorded.is_object() && StringField(recorded, "source") == "passphrase" &&
      Unhex(StringField(recorded, "salt"), salt) && salt.size() == 16) {
    return salt;
  }
  unsigned char fresh[16];
  if (RAND_bytes(fresh, sizeof fresh) != 1) return Status{StatusCode::kInternal, "no random bytes for a salt"};
  return std::string(reinterpret_cast<const char*>(fresh), sizeof fresh);
}

StatusOr<KeyBytes> KeyFromFile(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) {
    return Status{StatusCode::kFailedPrecondition,
                  "AMLC_SECRET_KEY_FILE names " + path + ", which does not exist; make a key with: "
                  "umask 077 && openssl rand 32 > " + path};
  }
  return ReadKey(path);
}

// The store's key from `source`; `salt` is filled for a passphrase.
StatusOr<KeyBytes> LoadKey(const std::string& dir, const SecretKeySource& source, const json& recorded,
                           std::string& salt) {
  if (source.kind == Kind::kFile) return KeyFromFile(source.key_file);
  if (source.kind == Kind::kPassphrase) {
    auto chosen = SaltOf(recorded);
    if (!chosen.ok()) return chosen.status();
    salt = chosen.value();
    return DeriveKey(source.passphrase, salt);
  }
  auto created = CreateKeyIfMissing(KeyPath(dir));
  if (!created.ok()) return created.status();
  return ReadKey(KeyPath(dir));
}

// Which kind of key sealed the store: recorded since amlc records it, else
// the workspace's for a store that has secrets, else none yet ("").
std::string RecordedKind(const json& document) {
  if (document.contains("key") && document["key"].is_object()) return StringField(document["key"], "source");
  return document["secrets"].empty() ? "" : "workspace";
}

constexpr const char* kCheckName = "amlc.key-check";

// Refuses a key of another kind than the one that sealed the secrets, or
// one that does not open the recorded check value.
Status CheckKey(const json& document, const SecretKeySource& source, const KeyBytes& key) {
  std::string sealed_with = RecordedKind(document);
  if (!sealed_with.empty() && sealed_with != KindName(source.kind) && !document["secrets"].empty()) {
    return {StatusCode::kFailedPrecondition,
            "the secret store's values are sealed with a key from " +
                KindSetting(sealed_with == "file" ? Kind::kFile : sealed_with == "passphrase" ? Kind::kPassphrase
                                                                                             : Kind::kWorkspace) +
                ", but this run uses " + KindSetting(source.kind) +
                "; set the same key as before, or delete the secrets and set them again"};
  }
  if (sealed_with != KindName(source.kind) || !document.contains("key") || !document["key"].contains("check")) {
    return Status::Ok();
  }
  if (Unseal(key, kCheckName, document["key"]["check"]).ok()) return Status::Ok();
  std::string which = source.kind == Kind::kPassphrase ? "AMLC_SECRET_PASSPHRASE is not the passphrase"
                      : source.kind == Kind::kFile     ? "the key in " + source.key_file + " is not the key"
                                                       : "the workspace's master.key is not the key";
  return {StatusCode::kFailedPrecondition, which + " the secret store was sealed with"};
}

// Records the key's kind, salt and a check value, once per kind.
Status RecordKey(const std::string& dir, json& document, const SecretKeySource& source, const KeyBytes& key,
                 const std::string& salt) {
  if (RecordedKind(document) == KindName(source.kind) && document.contains("key")) return Status::Ok();
  auto check = Seal(key, kCheckName, "amlc");
  if (!check.ok()) return check.status();
  json recorded{{"source", KindName(source.kind)}, {"check", check.value()}};
  if (source.kind == Kind::kPassphrase) {
    recorded["salt"] = Hex(Bytes(salt), salt.size());
    recorded["kdf"] = {{"name", "scrypt"}, {"N", kScryptN}, {"r", kScryptR}, {"p", kScryptP}};
  }
  document["key"] = recorded;
  return WriteDocument(dir, document);
}

}  // namespace

StatusOr<SecretKeySource> SecretKeySourceFromEnvironment() {
  const char* file = std::getenv("AMLC_SECRET_KEY_FILE");
  const char* passphrase = std::getenv("AMLC_SECRET_PASSPHRASE");
  bool has_file = file && *file, has_passphrase = passphrase && *passphrase;
  if (has_file && has_passphrase) {
    return Status{StatusCode::kInvalidArgument,
                  "both AMLC_SECRET_KEY_FILE and AMLC_SECRET_PASSPHRASE are set; set the one the store uses"};
  }
  SecretKeySource source;
  if (has_file) {
    source.kind = Kind::kFile;
    source.key_file = file;
  } else if (has_passphrase) {
    source.kind = Kind::kPassphrase;
    source.passphrase = passphrase;
  }
  return source;
}

bool IsValidSecretName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                   c == '.' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

SecretStore::~SecretStore() { OPENSSL_cleanse(key_.data(), key_.size()); }

StatusOr<SecretStore> SecretStore::Open(const std::string& workspace_home) {
  auto source = SecretKeySourceFromEnvironment();
  if (!source.ok()) return source.status();
  return Open(workspace_home, source.value());
}

StatusOr<SecretStore> SecretStore::Open(const std::string& workspace_home, const SecretKeySource& source) {
  std::error_code error;
  std::filesystem::create_directories(workspace_home, error);  // a reconciler's token may come before its first pass
  if (error) return Status{StatusCode::kUnavailable, "cannot create workspace home " + workspace_home + ": " + error.message()};
  std::string dir = workspace_home + "/secrets";
  if (Status made = EnsurePrivateDir(dir); !made.ok()) return made;
  auto lock = StoreLock::Acquire(dir);
  if (!lock.ok()) return lock.status();
  auto document = ReadDocument(dir);
  if (!document.ok()) return document.status();
  json recorded = document.value().contains("key") ? document.value()["key"] : json();
  std::string salt;
  auto key = LoadKey(dir, source, recorded, salt);
  if (!key.ok()) return key.status();
  Status usable = CheckKey(document.value(), source, key.value());
  if (usable.ok()) usable = RecordKey(dir, document.value(), source, key.value(), salt);
  if (!usable.ok()) {
    OPENSSL_cleanse(key.value().data(), key.value().size());
    return usable;
  }
  SecretStore store(dir, key.value());
  OPENSSL_cleanse(key.value().data(), key.value().size());
  return store;
}

Status SecretStore::Set(const std::string& name, const std::string& value, const std::string& user) {
  if (Status valid = CheckName(name); !valid.ok()) return valid;
  auto sealed = Seal(key_, name, value);
  if (!sealed.ok()) return sealed.status();
  json entry = std::move(sealed.value());
  entry["updated_at"] = NowMillis();
  entry["updated_by"] = user;
  // Read under the lock: another store's write since our last look stays.
  auto lock = StoreLock::Acquire(dir_);
  if (!lock.ok()) return lock.status();
  auto document = ReadDocument(dir_);
  if (!document.ok()) return document.status();
  document.value()["secrets"][name] = std::move(entry);
  return WriteDocument(dir_, document.value());
}

StatusOr<std::string> SecretStore::Get(const std::string& name) const {
  if (Status valid = CheckName(name); !valid.ok()) return valid;
  auto document = ReadDocument(dir_);
  if (!document.ok()) return document.status();
  const json& secrets = document.value()["secrets"];
  auto entry = secrets.find(name);
  if (entry == secrets.end()) return NoSuchSecret(name);
  return Unseal(key_, name, *entry);
}

StatusOr<std::vector<SecretInfo>> SecretStore::List() const {
  auto document = ReadDocument(dir_);
  if (!document.ok()) return document.status();
  std::vector<SecretInfo> infos;
  for (const auto& [name, entry] : document.value()["secrets"].items()) {  // nlohmann keeps keys sorted
    SecretInfo info;
    info.name = name;
    auto updated_at = entry.find("updated_at");  // end() for a non-object
    if (updated_at != entry.end() && updated_at->is_number_integer()) info.updated_at = updated_at->get<int64_t>();
    info.updated_by = StringField(entry, "updated_by");
    infos.push_back(std::move(info));
  }
  return infos;
}

Status SecretStore::Delete(const std::string& name) {
  if (Status valid = CheckName(name); !valid.ok()) return valid;
  auto lock = StoreLock::Acquire(dir_);
  if (!lock.ok()) return lock.status();
  auto document = ReadDocument(dir_);
  if (!document.ok()) return document.status();
  if (document.value()["secrets"].erase(name) == 0) return NoSuchSecret(name);
  return WriteDocument(dir_, document.value());
}

}  // namespace amlc::runtime
