#include "runtime/serving/scoring/worker_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/process.h"

namespace amlc::runtime::serving {

namespace {

std::string MessageBody(const std::string& message) {
  return nlohmann::json{{"message", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
}

ScoreResult Failure(int status, const std::string& message) {
  ScoreResult result;
  result.status = status;
  result.body = MessageBody(message);
  return result;
}

std::string Seconds(Clock::duration elapsed) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", std::chrono::duration<double>(elapsed).count());
  return text;
}

}  // namespace

WorkerPool::WorkerPool(WorkerSpec spec, int workers, LogSink& log, LogPump& pump)
    : spec_(std::move(spec)), log_(log), pump_(pump) {
  for (int i = 0; i < std::max(1, workers); ++i) {
    auto slot = std::make_unique<Slot>();
    slot->number = i + 1;
    slots_.push_back(std::move(slot));
  }
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
}

WorkerPool::~WorkerPool() {
  Stop(std::chrono::milliseconds(0));
  for (int& fd : wake_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void WorkerPool::Start() {
  for (auto& slot : slots_) Spawn(*slot, false);
  supervisor_ = std::thread([this] { Supervise(); });
}

void WorkerPool::WakeSupervisor() {
  char byte = 1;
  if (wake_[1] >= 0) (void)!write(wake_[1], &byte, 1);
}

void WorkerPool::Spawn(Slot& slot, bool restart) {
  auto started = StartWorker(spec_, slot.number);
  std::string who = "worker " + std::to_string(slot.number);
  if (!started.ok()) {
    {
      std::lock_guard lock(mutex_);
      slot.state = State::kFailed;
      slot.failure = started.status().message();
      slot.reaped = true;
      for (Waiter* waiter : waiters_) waiter->cv.notify_one();
    }
    log_.Line("amlc", started.status().message());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    slot.process = started.value();
    slot.reaped = false;
    slot.state = State::kStarting;
    slot.started = Clock::now();
    if (restart) ++restarts_;
  }
  pump_.Add(slot.process.log_fd, who);
  slot.process.log_fd = -1;  // the pump owns it now
  log_.Line("amlc", who + (restart ? " restarted" : " started") + " (pid " +
                        std::to_string(slot.process.pid) + "), running init()");
}

void WorkerPool::FinishStart(Slot& slot) {
  ResponseFrame frame;
  IoOutcome outcome =
      ReadResponseFrame(slot.process.response_fd, frame, Clock::now() + std::chrono::seconds(5));
  std::string who = "worker " + std::to_string(slot.number);
  if (outcome == IoOutcome::kOk && frame.kind == FrameKind::kReady) {
    if (frame.body == kReadyWantsHttp) wants_http_.store(true, std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      slot.ever_ready = true;
      size_t index = 0;
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].get() == &slot) index = i;
      }
      MakeAvailable(index);
    }
    log_.Line("amlc", who + " ready (init() took " + Seconds(Clock::now() - slot.started) + ")");
    return;
  }
  // init() failed, or the worker died or spoke nonsense before finishing it.
  KillWorkerGroup(slot.process.pid);
  int wait_status = 0;
  waitpid(slot.process.pid, &wait_status, 0);
  std::string failure;
  if (outcome == IoOutcome::kOk && frame.kind == FrameKind::kInitFailed) {
    failure = "init() failed: " + frame.body;
  } else {
    failure = "the worker exited before init() finished (" + DescribeWaitStatus(wait_status) + ")";
  }
  {
    std::lock_guard lock(mutex_);
    slot.reaped = true;
    slot.state = State::kFailed;
    slot.failure = failure;
    for (Waiter* waiter : waiters_) waiter->cv.notify_one();
  }
  CloseWorkerPipes(slot.process);
  log_.Line("amlc",
            who + ": " + failure + "; the replica stays not ready (the traceback is above)");
}

void WorkerPool::MakeAvailable(size_t index) {
  Slot& slot = *slots_[index];
  if (!waiters_.empty()) {
    Waiter* waiter = waiters_.front();
    waiters_.pop_front();
    waiter->slot = static_cast<int>(index);
    slot.state = State::kBusy;
    waiter->cv.notify_one();
    return;
  }
  slot.state = State::kIdle;
}

void WorkerPool::Supervise() {
  std::vector<pollfd> polled;
  std::vector<Slot*> starting;
  std::vector<Slot*> respawn;
  for (;;) {
    polled.assign(1, pollfd{wake_[0], POLLIN, 0});
    starting.clear();
    respawn.clear();
    bool dying = false;  // a killed worker not reaped yet: look again soon
    {
      std::unique_lock lock(mutex_);
      if (stopping_) {
        // Here rather than in Stop(): workers this thread started get
        // PR_SET_PDEATHSIG from it, so it must outlive them to let them exit
        // on EOF instead of being killed.
        auto grace = stop_grace_;
        lock.unlock();
        StopWorkers(grace);
        return;
      }
      for (auto& owned : slots_) {
        Slot& slot = *owned;
        int wait_status = 0;
        switch (slot.state) {
          case State::kStarting:
            polled.push_back({slot.process.response_fd, POLLIN, 0});
            starting.push_back(&slot);
            break;
          case State::kIdle:
            // Died between requests (out of memory, killed from outside).
            if (waitpid(slot.process.pid, &wait_status, WNOHANG) == slot.process.pid) {
              slot.reaped = true;
              slot.state = State::kDead;
              log_.Line("amlc", "worker " + std::to_string(slot.number) + " exited while idle (" +
                                    DescribeWaitStatus(wait_status) + "); restarting it");
              respawn.push_back(&slot);
            }
            break;
          case State::kDead:
            if (!slot.reaped) {
              KillWorkerGroup(slot.process.pid);
              if (waitpid(slot.process.pid, &wait_status, WNOHANG) == slot.process.pid) {
                slot.reaped = true;
                log_.Line("amlc", "worker " + std::to_string(slot.number) + " ended (" +
                                      DescribeWaitStatus(wait_status) + "); restarting it");
              }
            }
            if (slot.reaped) {
              respawn.push_back(&slot);
            } else {
              dying = true;
            }
            break;
          default:
            break;
        }
      }
    }
    if (!respawn.empty()) {
      for (Slot* slot : respawn) {
        CloseWorkerPipes(slot->process);
        Spawn(*slot, true);
      }
      continue;  // poll the new workers' pipes too
    }
    if (poll(polled.data(), polled.size(), dying ? 10 : 100) <= 0) continue;
    if (polled[0].revents != 0) {
      char drain[64];
      while (read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    for (size_t i = 1; i < polled.size(); ++i) {
      if (polled[i].revents != 0) FinishStart(*starting[i - 1]);
    }
  }
}

bool WorkerPool::CanFreeUp(std::string& why_not) const {
  const Slot* failed = nullptr;
  for (const auto& slot : slots_) {
    if (slot->state == State::kBusy || slot->state == State::kStarting ||
        slot->state == State::kDead) {
      return true;
    }
    if (slot->state == State::kFailed && failed == nullptr) failed = slot.get();
  }
  why_not = failed ? "no worker can take requests: worker " + std::to_string(failed->number) +
                         ": " + failed->failure
                   : "no worker is running";
  return false;
}

int WorkerPool::Acquire(std::chrono::milliseconds queue_wait, std::string& why_not) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    why_not = "the server is shutting down";
    return -1;
  }
  size_t count = slots_.size();
  for (size_t k = 0; k < count; ++k) {
    size_t i = (next_pick_ + k) % count;
    if (slots_[i]->state == State::kIdle) {
      slots_[i]->state = State::kBusy;
      next_pick_ = i + 1;
      return static_cast<int>(i);
    }
  }
  // No idle worker: wait, but only while one can still come free (a worker
  // whose init() fails wakes the waiters to look again).
  Waiter waiter;
  waiters_.push_back(&waiter);
  auto deadline = Clock::now() + queue_wait;
  bool hopeless = false;
  while (waiter.slot < 0 && !stopping_) {
    if (!CanFreeUp(why_not)) {
      hopeless = true;
      break;
    }
    if (waiter.cv.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  if (waiter.slot >= 0) return waiter.slot;
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), &waiter), waiters_.end());
  if (stopping_) {
    why_not = "the server is shutting down";
  } else if (!hopeless) {
    why_not = "all " + std::to_string(count) + " workers are busy; waited " +
              std::to_string(queue_wait.count()) + " ms for one";
  }
  return -1;
}

void WorkerPool::Release(size_t index) {
  std::lock_guard lock(mutex_);
  MakeAvailable(index);
}

void WorkerPool::MarkDead(size_t index, const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    slots_[index]->state = State::kDead;
    slots_[index]->reaped = false;
  }
  log_.Line("amlc", "worker " + std::to_string(slots_[index]->number) + " " + why);
  WakeSupervisor();
}

ScoreResult WorkerPool::Score(std::string_view request_id, std::string_view body,
                              std::chrono::milliseconds queue_wait,
                              std::chrono::milliseconds timeout, uint32_t kind) {
  std::string why_not;
  int acquired = Acquire(queue_wait, why_not);
  if (acquired < 0) return Failure(503, why_not);
  auto index = static_cast<size_t>(acquired);
  // The slot is ours until Release/MarkDead: the supervisor leaves busy workers alone.
  Slot& slot = *slots_[index];
  auto deadline = Clock::now() + timeout;
  IoOutcome outcome = WriteRequestFrame(slot.process.request_fd, request_id, body, deadline, kind);
  ResponseFrame frame;
  if (outcome == IoOutcome::kOk)
    outcome = ReadResponseFrame(slot.process.response_fd, frame, deadline);
  if (outcome == IoOutcome::kOk &&
      (frame.kind != FrameKind::kResult || frame.request_id != request_id)) {
    outcome = IoOutcome::kProtocol;
  }
  std::string request = " (request " + std::string(request_id) + ")";
  switch (outcome) {
    case IoOutcome::kOk: {
      Release(index);
      ScoreResult result;
      result.status = frame.status >= 100 && frame.status <= 599 ? frame.status : 500;
      result.content = frame.content;
      result.body = std::move(frame.body);
      result.ran = true;
      result.exec_us = frame.exec_us;
      return result;
    }
    case IoOutcome::kTimeout:
      KillWorkerGroup(slot.process.pid);
      MarkDead(index, "did not answer within " + std::to_string(timeout.count()) + " ms" + request +
                          "; killed it");
      return Failure(504, "run() did not finish within " + std::to_string(timeout.count()) +
                              " ms; its worker was stopped and is being restarted");
    case IoOutcome::kClosed:
      MarkDead(index, "exited while handling a request" + request);
      return Failure(
          502, "the scoring worker exited while handling this request; it is being restarted");
    case IoOutcome::kProtocol:
      KillWorkerGroup(slot.process.pid);
      MarkDead(index, "broke the pipe protocol" + request + "; killed it");
      return Failure(502, "the scoring worker sent a malformed answer; it is being restarted");
  }
  return Failure(500, "unreachable");
}

PoolReadiness WorkerPool::Readiness() const {
  PoolReadiness readiness;
  std::lock_guard lock(mutex_);
  readiness.workers = static_cast<int>(slots_.size());
  int never_ready = 0;
  const Slot* failed = nullptr;
  for (const auto& slot : slots_) {
    if (slot->state == State::kIdle || slot->state == State::kBusy) ++readiness.ready_workers;
    if (slot->state == State::kFailed && failed == nullptr) failed = slot.get();
    if (!slot->ever_ready) ++never_ready;
  }
  if (stopping_) {
    readiness.reason = "the server is shutting down";
  } else if (failed != nullptr) {
    readiness.reason = "worker " + std::to_string(failed->number) + ": " + failed->failure;
  } else if (never_ready > 0) {
    readiness.reason = std::to_string(never_ready) + " of " + std::to_string(slots_.size()) +
                       " workers have not finished init()";
  } else {
    // Every worker came up once; one being replaced after a crash or a
    // timeout does not take the replica out of rotation.
    readiness.ready = true;
  }
  return readiness;
}

uint64_t WorkerPool::restarts() const {
  std::lock_guard lock(mutex_);
  return restarts_;
}

int WorkerPool::ready_workers() const {
  std::lock_guard lock(mutex_);
  int ready = 0;
  for (const auto& slot : slots_)
    ready += slot->state == State::kIdle || slot->state == State::kBusy;
  return ready;
}

void WorkerPool::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !supervisor_.joinable()) return;
    stopping_ = true;
    stop_grace_ = grace;
    for (Waiter* waiter : waiters_) waiter->cv.notify_one();
  }
  WakeSupervisor();
  if (supervisor_.joinable()) {
    supervisor_.join();  // it stops the workers on its way out
  } else {
    StopWorkers(grace);
  }
}

void WorkerPool::StopWorkers(std::chrono::milliseconds grace) {
  // EOF on its request pipe tells a worker to exit; give them `grace` to do so.
  for (auto& slot : slots_) {
    if (slot->process.request_fd >= 0) {
      close(slot->process.request_fd);
      slot->process.request_fd = -1;
    }
  }
  auto deadline = Clock::now() + grace;
  for (;;) {
    bool running = false;
    for (auto& slot : slots_) {
      if (slot->process.pid > 0 && !slot->reaped) {
        int wait_status = 0;
        if (waitpid(slot->process.pid, &wait_status, WNOHANG) == slot->process.pid) {
          slot->reaped = true;
        } else {
          running = true;
        }
      }
    }
    if (!running || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& slot : slots_) {
    if (slot->process.pid > 0 && !slot->reaped) {
      KillWorkerGroup(slot->process.pid);
      int wait_status = 0;
      waitpid(slot->process.pid, &wait_status, 0);
      slot->reaped = true;
    }
    CloseWorkerPipes(slot->process);
    std::lock_guard lock(mutex_);
    slot->state = State::kStopped;
  }
}

}  // namespace amlc::runtime::serving
