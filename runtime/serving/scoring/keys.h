#ifndef AMLC_RUNTIME_SERVING_SCORING_KEYS_H_
#define AMLC_RUNTIME_SERVING_SCORING_KEYS_H_

// Key authentication of POST /score, as Azure ML endpoints do it: a primary
// and a secondary key, either one accepted as `Authorization: Bearer KEY`.
// Keys live in a JSON file {"primary": "...", "secondary": "..."} that is
// re-read when it changes, so a key is regenerated without a restart (and the
// other key keeps working meanwhile).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace amlc::runtime::serving {

class KeyStore {
 public:
  /// Reads the file once; an error when it is missing, not JSON or holds no key.
  static StatusOr<std::unique_ptr<KeyStore>> Open(const std::string& path);

  /// Whether `authorization` (the header's value) carries a current key. The
  /// file is checked for a change (mtime, size, inode) first; a rewrite that
  /// cannot be read keeps the keys read before, so a half-written file never
  /// locks everyone out.
  bool Accepts(std::string_view authorization);

 private:
  explicit KeyStore(std::string path) : path_(std::move(path)) {}
  Status Reload(bool force);

  std::string path_;
  std::shared_mutex mutex_;
  std::vector<std::string> keys_;
  int64_t mtime_ns_ = -1;
  int64_t size_ = -1;
  ino_t inode_ = 0;
};

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_KEYS_H_
