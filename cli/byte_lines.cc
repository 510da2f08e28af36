#include "cli/byte_lines.h"

namespace amlc::cli {

ByteLines::ByteLines(std::FILE* out, bool terminal, std::string prefix, std::chrono::milliseconds plain_interval)
    : out_(out), terminal_(terminal), prefix_(std::move(prefix)), plain_interval_(plain_interval) {}

void ByteLines::Report(const ByteProgress& progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string line = prefix_ + FormatByteProgress(progress);
  if (terminal_) {
    // Carriage return and erase-line: the same line, updated in place.
    std::fprintf(out_, "\r\033[2K%s%s", line.c_str(), progress.finished ? "\n" : "");
    std::fflush(out_);
    return;
  }
  auto now = ProgressClock::now();
  auto last = printed_.find(progress.label);
  if (!progress.finished && last != printed_.end() && now - last->second < plain_interval_) return;
  printed_[progress.label] = now;
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

}  // namespace amlc::cli
