#include "runtime/serving/scoring/keys.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace amlc::runtime::serving {

namespace {

struct FileIdentity {
  int64_t mtime_ns = -1;
  int64_t size = -1;
  ino_t inode = 0;
};

bool Identify(const std::string& path, FileIdentity& identity) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return false;
  identity.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  identity.size = static_cast<int64_t>(info.st_size);
  identity.inode = info.st_ino;
  return true;
}

StatusOr<std::vector<std::string>> ReadKeys(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot read the keys file " + path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (!parsed.is_object()) {
    return Status(StatusCode::kInvalidArgument,
                  "the keys file " + path +
                      " is not a JSON object like {\"primary\": \"...\", \"secondary\": \"...\"}");
  }
  std::vector<std::string> keys;
  for (const char* name : {"primary", "secondary"}) {
    auto found = parsed.find(name);
    if (found != parsed.end() && found->is_string() && !found->get<std::string>().empty()) {
      keys.push_back(found->get<std::string>());
    }
  }
  if (keys.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "the keys file " + path + " has neither a primary nor a secondary key");
  }
  return keys;
}

// Compares in time independent of where the strings differ.
bool SameKey(std::string_view given, const std::string& key) {
  return given.size() == key.size() && CRYPTO_memcmp(given.data(), key.data(), key.size()) == 0;
}

}  // namespace

StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path) {
  std::unique_ptr<KeyStore> store(new KeyStore(path));
  if (Status loaded = store->Reload(true); !loaded.ok()) return loaded;
  return store;
}

Status KeyStore::Reload(bool force) {
  FileIdentity identity;
  if (!Identify(path_, identity)) {
    return force ? Status(StatusCode::kNotFound, "no keys file " + path_) : Status::Ok();
  }
  {
    std::shared_lock lock(mutex_);
    if (!force && identity.mtime_ns == mtime_ns_ && identity.size == size_ &&
        identity.inode == inode_) {
      return Status::Ok();
    }
  }
  auto keys = ReadKeys(path_);
  std::unique_lock lock(mutex_);
  if (!keys.ok()) return force ? keys.status() : Status::Ok();
  keys_ = std::move(keys.value());
  mtime_ns_ = identity.mtime_ns;
  size_ = identity.size;
  inode_ = identity.inode;
  return Status::Ok();
}

bool KeyStore::Accepts(std::string_view authorization) {
  Reload(false);
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size()) return false;
  // The scheme is case-insensitive (RFC 7235).
  for (size_t i = 0; i + 1 < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i]))) {
      return false;
    }
  }
  if (authorization[kBearer.size() - 1] != ' ') return false;
  std::string_view given = authorization.substr(kBearer.size());
  while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) given.remove_suffix(1);
  while (!given.empty() && (given.front() == ' ' || given.front() == '\t')) given.remove_prefix(1);
  std::shared_lock lock(mutex_);
  bool accepted = false;
  for (const std::string& key : keys_) accepted |= SameKey(given, key);
  return accepted;
}

}  // namespace amlc::runtime::serving
