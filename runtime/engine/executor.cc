#include "runtime/engine/executor.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/clock.h"

namespace amlc::runtime {

using compiler::planner::Action;
using compiler::planner::ActionName;
using compiler::planner::Plan;

namespace {

enum class State { kWaiting, kRunning, kDone };

// An action that finished, or (index == kWakeUp) a pool slot freed.
constexpr size_t kWakeUp = static_cast<size_t>(-1);
struct Finished {
  size_t index;
  ActionResult result;
  double seconds;
};

// Results come back from action threads through this queue.
class ResultQueue {
 public:
  void Push(Finished finished) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(finished));
    ready_.notify_one();
  }
  Finished Pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty(); });
    Finished finished = std::move(queue_.front());
    queue_.pop_front();
    return finished;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Finished> queue_;
};

void Journal(const ExecuteOptions& options, const Action& action, const char* phase, const std::string& status,
             const std::string& detail) {
  if (!options.journal) return;
  JournalEntry entry;
  entry.apply_id = options.apply_id;
  entry.action = ActionName(action.type);
  entry.resource_id = action.resource_id;
  entry.phase = phase;
  entry.status = status;
  entry.detail = detail;
  entry.timestamp = NowMillis();
  options.journal->AppendJournal(entry);
}

}  // namespace

std::vector<ActionResult> ExecutePlan(const Plan& plan, ActionRunner& runner, ProgressReporter& reporter,
                                      const ExecuteOptions& options) {
  size_t count = plan.actions.size();
  std::vector<ActionResult> results(count);
  std::vector<State> states(count, State::kWaiting);
  std::vector<std::vector<size_t>> dependants(count);
  for (size_t i = 0; i < count; ++i) {
    for (size_t after : plan.actions[i].after) dependants[after].push_back(i);
  }
  ResultQueue finished;
  if (options.pools) options.pools->OnRelease([&] { finished.Push({kWakeUp, {}, 0}); });
  std::vector<std::thread> threads;
  size_t running = 0;
  size_t done = 0;
  size_t parallelism = static_cast<size_t>(std::max(1, options.parallelism));

  auto ready = [&](size_t i) {
    if (states[i] != State::kWaiting) return false;
    for (size_t after : plan.actions[i].after) {
      if (states[after] != State::kDone) return false;
    }
    return true;
  };
  auto takes_slot = [&](size_t i) { return options.pools && !plan.actions[i].pool.empty(); };
  // Skips everything downstream of a failed or skipped action, transitively.
  std::function<void(size_t, const std::string&)> skip_dependants = [&](size_t failed,
                                                                        const std::string& why) {
    for (size_t d : dependants[failed]) {
      if (states[d] != State::kWaiting) continue;
      states[d] = State::kDone;
      results[d] = {Outcome::kSkipped, why};
      reporter.Finished(d, plan.actions[d], results[d], 0);
      ++done;
      skip_dependants(d, why);
    }
  };

  while (done < count) {
    for (size_t i = 0; i < count && running < parallelism; ++i) {
      if (!ready(i)) continue;
      if (takes_slot(i) && !options.pools->TryAcquire(plan.actions[i].pool)) continue;
      states[i] = State::kRunning;
      ++running;
      reporter.Started(i, plan.actions[i]);
      Journal(options, plan.actions[i], "begin", "", "");
      threads.emplace_back([&, i] {
        auto start = std::chrono::steady_clock::now();
        ProgressSink progress([&, i](const std::string& status) { reporter.Progress(i, status); },
                              [&, i](const ByteProgress& bytes) { reporter.Bytes(i, bytes); });
        ActionResult result = runner.Run(plan.actions[i], progress);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        finished.Push({i, std::move(result), seconds});
      });
    }
    if (running == 0) break;  // nothing can start: everything left was skipped
    Finished result = finished.Pop();
    if (result.index == kWakeUp) continue;
    --running;
    ++done;
    states[result.index] = State::kDone;
    results[result.index] = result.result;
    const Action& action = plan.actions[result.index];
    if (takes_slot(result.index)) options.pools->Release(action.pool);
    bool ok = result.result.outcome == Outcome::kSucceeded;
    Journal(options, action, "end", ok ? "ok" : "failed", result.result.message);
    reporter.Finished(result.index, action, result.result, result.seconds);
    if (!ok) skip_dependants(result.index, "skipped: " + action.resource_id + " failed");
  }
  for (std::thread& thread : threads) thread.join();
  if (options.pools) options.pools->OnRelease(nullptr);
  return results;
}

}  // namespace amlc::runtime
