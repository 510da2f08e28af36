#ifndef AMLC_RUNTIME_SERVING_SCORING_LOG_PUMP_H_
#define AMLC_RUNTIME_SERVING_SCORING_LOG_PUMP_H_

// The scoring host's log: its own lines and every worker's stdout/stderr,
// one line at a time, each prefixed with a UTC time and who wrote it
// ("[amlc]", "[worker 2]"). Workers write into pipes that one thread
// (LogPump) reads, so a worker that prints a lot never blocks on the log file
// and lines of two workers never interleave mid-line.

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace amlc::runtime::serving {

class LogSink {
 public:
  /// Appends to `path`, or writes to stderr when `path` is "".
  static StatusOr<std::unique_ptr<LogSink>> Open(const std::string& path);
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  /// Writes "TIME [who] text\n" (thread-safe; flushed at once).
  void Line(std::string_view who, std::string_view text);

 private:
  LogSink(FILE* file, bool owned) : file_(file), owned_(owned) {}
  std::mutex mutex_;
  FILE* file_;
  bool owned_;
};

/// Copies lines from pipes into a LogSink on one thread.
class LogPump {
 public:
  explicit LogPump(LogSink& sink);
  ~LogPump();
  LogPump(const LogPump&) = delete;
  LogPump& operator=(const LogPump&) = delete;

  /// Starts reading `fd` (the pump closes it at EOF); lines are written as `who`.
  void Add(int fd, std::string who);
  /// Waits up to `wait_ms` for every pipe to reach EOF, writes what is left, stops.
  void Stop(int wait_ms);

 private:
  struct Source {
    std::string who;
    std::string partial;  // text after the last newline
  };
  void Loop();
  void Wake();
  void Drain(int fd, Source& source, bool eof);

  LogSink& sink_;
  int wake_[2] = {-1, -1};
  std::mutex mutex_;
  std::map<int, Source> sources_;  // guarded by mutex_ for Add; the loop owns the text
  bool stopping_ = false;
  int64_t stop_deadline_ms_ = 0;
  std::thread thread_;
};

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_LOG_PUMP_H_
