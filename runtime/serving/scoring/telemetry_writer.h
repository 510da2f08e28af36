#ifndef AMLC_RUNTIME_SERVING_SCORING_TELEMETRY_WRITER_H_
#define AMLC_RUNTIME_SERVING_SCORING_TELEMETRY_WRITER_H_

// Request telemetry in the spirit of Azure ML's model data collection: one
// JSON line per scoring request, appended to a file,
//   {"time": UNIX_MS, "request_id": ..., "status": 200, "latency_ms": 1.23}
// and, for a sampled fraction of requests, "request_body" and
// "response_body" too (each cut to 4 KiB). Lines are buffered in memory and
// written by a background thread at least once a second and at exit, so a
// request never waits for the disk.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace amlc::runtime::serving {

class TelemetryWriter {
 public:
  static constexpr size_t kMaxBodyBytes = 4096;

  /// Opens `path` for appending; `sample_rate` in [0, 1] is the share of
  /// requests whose bodies are recorded.
  static StatusOr<std::unique_ptr<TelemetryWriter>> Open(const std::string& path,
                                                         double sample_rate);
  ~TelemetryWriter();
  TelemetryWriter(const TelemetryWriter&) = delete;
  TelemetryWriter& operator=(const TelemetryWriter&) = delete;

  void Record(int64_t unix_ms, std::string_view request_id, int status, double latency_ms,
              std::string_view request_body, std::string_view response_body);
  /// Writes what is buffered and stops the background thread.
  void Close();

 private:
  TelemetryWriter(int fd, double sample_rate);
  void Loop();
  void WriteOut(std::string& batch);

  int fd_;
  double sample_rate_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string buffer_;
  bool closing_ = false;
  std::thread thread_;
};

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_TELEMETRY_WRITER_H_
