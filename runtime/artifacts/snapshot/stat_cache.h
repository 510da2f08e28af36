#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_STAT_CACHE_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_STAT_CACHE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/snapshot/folder_walk.h"

namespace amlc::runtime::snapshot {

/// Remembers, for one folder, each file's digest together with the stat
/// fields (size, mtime in ns, inode, device) it was computed under, so an
/// unchanged file is answered without reading it. The cache is only ever an
/// optimization: a missing, unreadable or damaged cache file is an empty
/// cache, never an error.
///
/// Files modified within kRacyWindowNs of the scan's start are neither
/// answered nor recorded (git's "racy clean" problem): on a filesystem with
/// coarse timestamps a second write in the same tick keeps size and mtime,
/// and a cached digest would hide it.
class StatCache {
 public:
  static constexpr int64_t kRacyWindowNs = 2'000'000'000;

  /// Loads `cache_path` (written for the folder `folder`; a cache written for
  /// another folder is ignored). `now_ns` is the scan's start, wall clock.
  static StatCache Load(std::string cache_path, std::string folder, int64_t now_ns);

  /// The digest recorded for `file` if its stat fields are unchanged and it
  /// is not racy; nullptr otherwise.
  const std::string* Lookup(const WalkedFile& file) const;

  /// Records `file`'s digest for the next Save (racy files are skipped).
  /// Call once per file present, in the walk's order.
  void Record(const WalkedFile& file, const std::string& digest);

  /// Rewrites the cache file when what was recorded differs from what was
  /// loaded (a new, changed or vanished file); a no-op for an unchanged folder.
  Status SaveIfChanged();

 private:
  struct Entry {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
    uint64_t device = 0;
    std::string digest;
    bool operator==(const Entry&) const = default;
  };

  StatCache(std::string cache_path, std::string folder, int64_t now_ns)
      : cache_path_(std::move(cache_path)), folder_(std::move(folder)), now_ns_(now_ns) {}

  bool IsRacy(const WalkedFile& file) const;
  static Entry EntryOf(const WalkedFile& file, const std::string& digest);
  void Parse(std::string_view text);
  std::string Serialize() const;

  std::string cache_path_;
  std::string folder_;
  int64_t now_ns_;
  std::unordered_map<std::string, Entry> loaded_;
  std::vector<std::pair<std::string, Entry>> recorded_;  // in the walk's (path) order
  bool changed_ = false;
};

}  // namespace amlc::runtime::snapshot

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_STAT_CACHE_H_
