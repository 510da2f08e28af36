#include "reconciler/server/delivery_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/digest.h"

namespace amlc::reconciler {

namespace {

constexpr size_t kDigestChars = 64;  // SHA-256 in hex

bool IsDigest(const std::string& text) {
  return text.size() == kDigestChars &&
         text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Writes all of `text` to a file created 0600: the log says which commits were
// pushed when, nothing others on the machine need.
bool WriteTo(const std::string& path, int flags, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
  if (fd < 0) return false;
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == text.size();
  return close(fd) == 0 && ok;
}

}  // namespace

DeliveryLog::DeliveryLog(std::string path, int64_t window_seconds, size_t capacity)
    : path_(std::move(path)), window_seconds_(window_seconds), capacity_(std::max<size_t>(capacity, 1)) {}

Status DeliveryLog::Load(int64_t now_seconds) {
  std::lock_guard lock(mutex_);
  if (path_.empty()) return Status::Ok();
  std::ifstream in(path_);
  if (!in) {
    if (access(path_.c_str(), F_OK) != 0) return Status::Ok();  // none yet
    return Status(StatusCode::kUnavailable, "cannot read the webhook delivery log " + path_ + ": " +
                                                std::strerror(errno));
  }
  std::string line;
  std::vector<std::pair<int64_t, std::string>> entries;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    int64_t when = 0;
    std::string digest;
    if (!(fields >> when >> digest) || !IsDigest(digest)) continue;
    if (when > now_seconds - window_seconds_ && !seen_.contains(digest)) {
      seen_[digest] = when;
      entries.emplace_back(when, digest);
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  order_.assign(entries.begin(), entries.end());
  Forget(now_seconds);
  return Rewrite();
}

bool DeliveryLog::SeenOrRecord(const std::vector<std::string>& keys, int64_t now_seconds) {
  std::vector<std::string> digests;
  for (const std::string& key : keys) digests.push_back(Sha256Hex(key));
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());

  std::lock_guard lock(mutex_);
  Forget(now_seconds);
  for (const std::string& digest : digests) {
    if (seen_.contains(digest)) return true;
  }
  for (const std::string& digest : digests) {
    seen_[digest] = now_seconds;
    order_.emplace_back(now_seconds, digest);
  }
  Forget(now_seconds);
  Append(digests, now_seconds);
  return false;
}

size_t DeliveryLog::size() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

// Drops entries older than the window, then the oldest over capacity. Held
// under mutex_.
void DeliveryLog::Forget(int64_t now_seconds) {
  while (!order_.empty() &&
         (order_.front().first <= now_seconds - window_seconds_ || order_.size() > capacity_)) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

// A failed write only costs memory across a restart, so it is not reported:
// the deliveries are still remembered while this process runs.
void DeliveryLog::Append(const std::vector<std::string>& digests, int64_t now_seconds) {
  if (path_.empty()) return;
  if (lines_in_file_ + digests.size() > 2 * capacity_) {
    (void)Rewrite();
    return;
  }
  std::string text;
  for (const std::string& digest : digests) text += std::to_string(now_seconds) + " " + digest + "\n";
  if (WriteTo(path_, O_APPEND, text)) lines_in_file_ += digests.size();
}

// The file holds what memory holds, replaced in one rename.
Status DeliveryLog::Rewrite() {
  if (path_.empty()) return Status::Ok();
  std::string text;
  for (const auto& [when, digest] : order_) text += std::to_string(when) + " " + digest + "\n";
  std::string temporary = path_ + ".tmp";
  if (!WriteTo(temporary, O_TRUNC, text) || std::rename(temporary.c_str(), path_.c_str()) != 0) {
    return Status(StatusCode::kUnavailable, "cannot write the webhook delivery log " + path_ + ": " +
                                                std::strerror(errno));
  }
  lines_in_file_ = order_.size();
  return Status::Ok();
}

}  // namespace amlc::reconciler
