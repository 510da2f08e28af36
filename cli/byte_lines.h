#ifndef AMLC_CLI_BYTE_LINES_H_
#define AMLC_CLI_BYTE_LINES_H_

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "base/byte_progress.h"

namespace amlc::cli {

/// Prints transfers' byte progress (FormatByteProgress) for commands that
/// move bytes outside an apply (`amlc images push`). On a terminal: one line
/// per transfer redrawn in place, kept when it finishes. Elsewhere (a log, a
/// pipe): a plain line at most every `plain_interval` per transfer, and its
/// final line, so logs stay short but show a stall.
class ByteLines {
 public:
  ByteLines(std::FILE* out, bool terminal, std::string prefix,
            std::chrono::milliseconds plain_interval = std::chrono::seconds(2));
  void Report(const ByteProgress& progress);  // thread-safe

 private:
  std::FILE* out_;
  bool terminal_;
  std::string prefix_;  // "push iris-image:1 "
  std::chrono::milliseconds plain_interval_;
  std::mutex mutex_;
  std::map<std::string, ProgressClock::time_point> printed_;  // label -> last plain line
};

}  // namespace amlc::cli

#endif  // AMLC_CLI_BYTE_LINES_H_
