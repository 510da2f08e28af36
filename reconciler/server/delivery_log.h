#ifndef AMLC_RECONCILER_SERVER_DELIVERY_LOG_H_
#define AMLC_RECONCILER_SERVER_DELIVERY_LOG_H_

// The webhook deliveries the reconciler has acted on, so that a replayed one
// (the same signed body, or the same delivery id) starts nothing. A forge's
// signature covers the body but no timestamp, so anyone who captured one
// delivery could otherwise send it again at will.
//
// Entries are digests (fixed size, whatever a header held), kept for a window
// of time and at most `capacity` of them: memory stays bounded. With a file,
// they survive a restart: one "<unix seconds> <digest>" line per entry,
// appended as they come and rewritten without expired ones when it has grown
// to twice the capacity.

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace amlc::reconciler {

class DeliveryLog {
 public:
  static constexpr int64_t kDefaultWindowSeconds = 7 * 24 * 3600;
  static constexpr size_t kDefaultCapacity = 20000;

  /// `path` empty: memory only. Nothing is read before Load().
  explicit DeliveryLog(std::string path, int64_t window_seconds = kDefaultWindowSeconds,
                       size_t capacity = kDefaultCapacity);

  /// Reads the file (a missing one is an empty log) and rewrites it without
  /// expired entries. Lines that do not parse are dropped, not fatal: losing
  /// them only forgets some deliveries. kUnavailable when the file exists
  /// but cannot be read or rewritten.
  Status Load(int64_t now_seconds);

  /// Whether any of `keys` was recorded within the window before `now`;
  /// when none was, records them all. One atomic step, so two copies of a
  /// delivery arriving together are told apart: exactly one is new.
  /// Keys are hashed; any text will do.
  bool SeenOrRecord(const std::vector<std::string>& keys, int64_t now_seconds);

  /// Entries held now.
  size_t size() const;

 private:
  void Forget(int64_t now_seconds);
  void Append(const std::vector<std::string>& digests, int64_t now_seconds);
  Status Rewrite();

  const std::string path_;
  const int64_t window_seconds_;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int64_t> seen_;       // digest -> when recorded
  std::deque<std::pair<int64_t, std::string>> order_;  // oldest first
  size_t lines_in_file_ = 0;
};

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_SERVER_DELIVERY_LOG_H_
