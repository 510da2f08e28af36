#ifndef AMLC_RUNTIME_SERVING_SCORING_WORKER_POOL_H_
#define AMLC_RUNTIME_SERVING_SCORING_WORKER_POOL_H_

// N Python scoring workers and the dispatch of requests over them.
//
// A worker takes one request at a time (scripts assume run() is not called
// concurrently), so "least in-flight" means: an idle worker if there is one,
// else the request queues (first come, first served) for up to the queue
// wait and then gets 503. The HTTP thread that got a worker talks to it
// directly over the pipes; no extra thread hop per request.
//
// A supervisor thread owns process lifecycles: it waits for each new
// worker's init() result, reaps workers that died, and starts replacements
// (a worker that timed out is killed by the request's thread and replaced
// here; the replacement runs init() again). A worker whose init() fails is
// not retried: the replica stays not ready and says why, and the log holds
// the traceback.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/serving/scoring/frame_protocol.h"
#include "runtime/serving/scoring/log_pump.h"
#include "runtime/serving/scoring/worker_process.h"

namespace amlc::runtime::serving {

/// What a scoring request came to.
struct ScoreResult {
  int status = 500;
  ContentKind content = ContentKind::kJson;
  std::string body;
  bool ran = false;  // run() was called: exec_us is meaningful
  uint32_t exec_us = 0;
};

struct PoolReadiness {
  bool ready = false;
  int ready_workers = 0;
  int workers = 0;
  std::string reason;  // why not ready ("" when ready)
};

class WorkerPool {
 public:
  WorkerPool(WorkerSpec spec, int workers, LogSink& log, LogPump& pump);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Starts the workers and the supervisor; returns at once (init() runs in the background).
  void Start();
  /// Runs one request on a worker. Never throws; every failure is a status:
  /// 503 when no worker frees up within `queue_wait`, 504 when run() takes
  /// longer than `timeout` (the worker is killed and replaced), 502 when the
  /// worker dies with the request (it is replaced).
  ScoreResult Score(std::string_view request_id, std::string_view body,
                    std::chrono::milliseconds queue_wait, std::chrono::milliseconds timeout,
                    uint32_t kind = kRequestScore);
  PoolReadiness Readiness() const;
  uint64_t restarts() const;
  int ready_workers() const;
  int size() const { return static_cast<int>(slots_.size()); }
  /// True once a worker said its run() takes the whole request (every worker
  /// runs the same script): POST /score then goes as an envelope.
  bool wants_http() const { return wants_http_.load(std::memory_order_relaxed); }
  /// Stops taking requests, lets workers exit on EOF for up to `grace`, then
  /// kills what is left. Call after the HTTP server has drained.
  void Stop(std::chrono::milliseconds grace);

 private:
  enum class State { kStarting, kIdle, kBusy, kDead, kFailed, kStopped };
  struct Slot {
    int number = 0;  // 1-based, as in the log
    State state = State::kStopped;
    WorkerProcess process;
    bool reaped = false;
    bool ever_ready = false;
    std::string failure;  // why init() failed (kFailed)
    Clock::time_point started;
  };
  struct Waiter {
    std::condition_variable cv;
    int slot = -1;
  };

  void Supervise();
  void Spawn(Slot& slot, bool restart);  // supervisor thread only
  void FinishStart(Slot& slot);          // supervisor thread only: reads the init() result
  void MakeAvailable(size_t index);      // mutex held: hand to the oldest waiter or mark idle
  int Acquire(std::chrono::milliseconds queue_wait, std::string& why_not);
  bool CanFreeUp(std::string& why_not) const;  // mutex held: a worker may still become idle
  void Release(size_t index);
  void MarkDead(size_t index, const std::string& why);
  void WakeSupervisor();
  void StopWorkers(std::chrono::milliseconds grace);  // after the supervisor's last look

  WorkerSpec spec_;
  LogSink& log_;
  LogPump& pump_;
  std::vector<std::unique_ptr<Slot>> slots_;
  mutable std::mutex mutex_;
  std::deque<Waiter*> waiters_;
  size_t next_pick_ = 0;
  uint64_t restarts_ = 0;
  std::atomic<bool> wants_http_{false};
  bool stopping_ = false;
  std::chrono::milliseconds stop_grace_{0};
  int wake_[2] = {-1, -1};
  std::thread supervisor_;
};

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_WORKER_POOL_H_
