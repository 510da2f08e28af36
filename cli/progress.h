#ifndef AMLC_CLI_PROGRESS_H_
#define AMLC_CLI_PROGRESS_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "cli/byte_lines.h"
#include "runtime/engine/executor.h"

namespace amlc::cli {

/// Shows an apply as it goes. On a terminal: an overall bar (actions done of
/// all, elapsed time) and one line per action in flight with its elapsed time
/// and latest status (a run's last metric, bytes sent), redrawn in place;
/// finished actions scroll above. Elsewhere: one plain line per start and
/// finish. `color` (see ColorFor) is separate: NO_COLOR keeps the live display.
class TerminalProgress : public runtime::ProgressReporter {
 public:
  TerminalProgress(bool interactive, bool color, size_t total_actions);
  ~TerminalProgress() override;

  void Started(size_t index, const compiler::planner::Action& action) override;
  void Progress(size_t index, const std::string& status) override;
  /// On a terminal: the action's status line shows the bytes, updated in
  /// place; elsewhere: ByteLines' plain lines (every 2s and a final one).
  void Bytes(size_t index, const ByteProgress& progress) override;
  void Finished(size_t index, const compiler::planner::Action& action,
                const runtime::ActionResult& result, double seconds) override;

 private:
  struct InFlight {
    std::string label;
    std::string status;
    std::chrono::steady_clock::time_point started;
  };
  void Redraw();  // with mutex_ held

  bool interactive_;
  bool color_;
  size_t total_;
  size_t finished_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::map<size_t, InFlight> in_flight_;
  std::map<size_t, std::string> labels_;  // action index -> "+ image/iris-image", for plain byte lines
  ByteLines plain_bytes_{stdout, false, ""};
  size_t drawn_lines_ = 0;
  bool stop_ = false;
  std::thread ticker_;
};

}  // namespace amlc::cli

#endif  // AMLC_CLI_PROGRESS_H_
