#include "cli/progress.h"

#include <cstdio>

namespace amlc::cli {

using compiler::planner::Action;
using compiler::planner::ActionSymbol;

namespace {

// "[########------------]  3/9 actions  12.3s"
std::string OverallBar(size_t done, size_t total, double seconds) {
  constexpr size_t kWidth = 24;
  size_t filled = total ? done * kWidth / total : kWidth;
  char counts[64];
  std::snprintf(counts, sizeof counts, "] %zu/%zu actions  %.1fs", done, total, seconds);
  return "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + counts;
}

}  // namespace

TerminalProgress::TerminalProgress(bool interactive, bool color, size_t total_actions)
    : interactive_(interactive), color_(color), total_(total_actions), started_(std::chrono::steady_clock::now()) {
  if (!interactive_) return;
  ticker_ = std::thread([this] {
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      Redraw();
    }
  });
}

TerminalProgress::~TerminalProgress() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  if (ticker_.joinable()) ticker_.join();
}

void TerminalProgress::Redraw() {
  for (size_t i = 0; i < drawn_lines_; ++i) std::fputs("\033[1A\033[2K", stdout);
  auto now = std::chrono::steady_clock::now();
  std::printf("%s\n", OverallBar(finished_, total_, std::chrono::duration<double>(now - started_).count()).c_str());
  const char* mark = color_ ? "\033[36m…\033[0m" : "…";
  for (const auto& [index, flight] : in_flight_) {
    double seconds = std::chrono::duration<double>(now - flight.started).count();
    std::printf("  %s %-40s %6.1fs  %s\n", mark, flight.label.c_str(), seconds, flight.status.c_str());
  }
  drawn_lines_ = in_flight_.size() + 1;
  std::fflush(stdout);
}

void TerminalProgress::Started(size_t index, const Action& action) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string label = std::string(ActionSymbol(action.type)) + " " + action.resource_id;
  if (!interactive_) {
    labels_[index] = label;
    std::printf("started  %s\n", label.c_str());
    std::fflush(stdout);
    return;
  }
  in_flight_[index] = {label, "", std::chrono::steady_clock::now()};
  Redraw();
}

void TerminalProgress::Progress(size_t index, const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = in_flight_.find(index); it != in_flight_.end()) it->second.status = status;
}

void TerminalProgress::Bytes(size_t index, const ByteProgress& progress) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (interactive_) {
    if (auto it = in_flight_.find(index); it != in_flight_.end()) it->second.status = FormatByteProgress(progress);
    return;
  }
  ByteProgress named = progress;
  if (auto it = labels_.find(index); it != labels_.end()) named.label = it->second + " " + progress.label;
  lock.unlock();  // ByteLines locks and prints by itself
  plain_bytes_.Report(named);
}

void TerminalProgress::Finished(size_t index, const Action& action, const runtime::ActionResult& result,
                                double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  static const char* kWords[] = {"done   ", "FAILED ", "skipped"};
  const char* word = kWords[static_cast<int>(result.outcome)];
  std::string label = std::string(ActionSymbol(action.type)) + " " + action.resource_id;
  ++finished_;
  if (interactive_) {
    for (size_t i = 0; i < drawn_lines_; ++i) std::fputs("\033[1A\033[2K", stdout);
    drawn_lines_ = 0;
    in_flight_.erase(index);
  }
  static const char* kColors[] = {"\033[32m", "\033[31m", "\033[33m"};
  const char* on = color_ ? kColors[static_cast<int>(result.outcome)] : "";
  const char* off = color_ ? "\033[0m" : "";
  std::printf("%s%s%s  %s (%.1fs): %s\n", on, word, off, label.c_str(), seconds, result.message.c_str());
  if (interactive_) Redraw();
  std::fflush(stdout);
}

}  // namespace amlc::cli
