#include "cli/progress.h"

#include <cstdio>

namespace amlc::cli {

using compiler::planner::Action;
using compiler::planner::ActionSymbol;

TerminalProgress::TerminalProgress(bool interactive) : interactive_(interactive) {
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
  for (const auto& [index, flight] : in_flight_) {
    double seconds = std::chrono::duration<double>(now - flight.started).count();
    std::printf("  \033[36m…\033[0m %-40s %6.1fs  %s\n", flight.label.c_str(), seconds, flight.status.c_str());
  }
  drawn_lines_ = in_flight_.size();
  std::fflush(stdout);
}

void TerminalProgress::Started(size_t index, const Action& action) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string label = std::string(ActionSymbol(action.type)) + " " + action.resource_id;
  if (!interactive_) {
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

void TerminalProgress::Finished(size_t index, const Action& action, const runtime::ActionResult& result,
                                double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  static const char* kWords[] = {"done   ", "FAILED ", "skipped"};
  const char* word = kWords[static_cast<int>(result.outcome)];
  std::string label = std::string(ActionSymbol(action.type)) + " " + action.resource_id;
  if (interactive_) {
    for (size_t i = 0; i < drawn_lines_; ++i) std::fputs("\033[1A\033[2K", stdout);
    drawn_lines_ = 0;
    in_flight_.erase(index);
  }
  std::printf("%s  %s (%.1fs): %s\n", word, label.c_str(), seconds, result.message.c_str());
  if (interactive_) Redraw();
  std::fflush(stdout);
}

}  // namespace amlc::cli
