#include "runtime/serving/scoring/telemetry_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

namespace amlc::runtime::serving {

namespace {

constexpr size_t kFlushBytes = 256 * 1024;  // write early when this much is waiting

bool Sampled(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  thread_local std::mt19937_64 random{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(random) < rate;
}

// Bodies are stored as JSON strings; a cut in the middle of a UTF-8
// sequence (or a binary body) is replaced, not an error.
std::string Truncated(std::string_view body) {
  return std::string(body.substr(0, TelemetryWriter::kMaxBodyBytes));
}

}  // namespace

StatusOr<std::unique_ptr<TelemetryWriter>> TelemetryWriter::Open(const std::string& path,
                                                                 double sample_rate) {
  // Request bodies: owner-only, whatever the umask or an older file's mode.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) fchmod(fd, 0600);
  if (fd < 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot open the telemetry file " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<TelemetryWriter>(new TelemetryWriter(fd, sample_rate));
}

TelemetryWriter::TelemetryWriter(int fd, double sample_rate) : fd_(fd), sample_rate_(sample_rate) {
  thread_ = std::thread([this] { Loop(); });
}

TelemetryWriter::~TelemetryWriter() { Close(); }

void TelemetryWriter::Record(int64_t unix_ms, std::string_view request_id, int status,
                             double latency_ms, std::string_view request_body,
                             std::string_view response_body) {
  nlohmann::json line = {{"time", unix_ms},
                         {"request_id", std::string(request_id)},
                         {"status", status},
                         {"latency_ms", std::round(latency_ms * 1000) / 1000}};
  if (Sampled(sample_rate_)) {
    line["request_body"] = Truncated(request_body);
    line["response_body"] = Truncated(response_body);
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  std::lock_guard lock(mutex_);
  buffer_ += text;
  if (buffer_.size() >= kFlushBytes) wake_.notify_one();
}

void TelemetryWriter::WriteOut(std::string& batch) {
  size_t done = 0;
  while (done < batch.size()) {
    ssize_t wrote = write(fd_, batch.data() + done, batch.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) break;  // a full disk loses telemetry, never requests
    done += static_cast<size_t>(wrote);
  }
  batch.clear();
}

void TelemetryWriter::Loop() {
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(500),
                   [this] { return closing_ || buffer_.size() >= kFlushBytes; });
    batch.swap(buffer_);
    bool closing = closing_;
    lock.unlock();
    WriteOut(batch);
    lock.lock();
    if (closing && buffer_.empty()) return;
  }
}

void TelemetryWriter::Close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace amlc::runtime::serving
