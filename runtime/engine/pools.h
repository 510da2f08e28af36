#ifndef AMLC_RUNTIME_ENGINE_POOLS_H_
#define AMLC_RUNTIME_ENGINE_POOLS_H_

// Pools bound how many actions (and sweep trials) use one compute target at
// once, as ninja's pools bound its edges: the plan names each action's pool
// and each pool's depth; the executor starts an action only when its pool has
// a free slot, and a sweep takes one slot per trial.

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace amlc::runtime {

class Pools {
 public:
  /// `depths`: pool name -> slots (a pool not named, or of depth <= 0, has no limit).
  explicit Pools(std::map<std::string, int> depths = {}) : depths_(std::move(depths)) {}
  /// Replaces the depths (before any slot is taken).
  void SetDepths(std::map<std::string, int> depths);

  /// Takes a slot of `pool` if one is free.
  bool TryAcquire(const std::string& pool);
  /// Takes a slot of `pool`, waiting for one.
  void Acquire(const std::string& pool);
  void Release(const std::string& pool);
  /// Called (outside the lock) after every Release: the executor waits for
  /// finished actions and freed slots alike.
  void OnRelease(std::function<void()> listener);

  /// A slot held for as long as the object lives.
  class Slot {
   public:
    Slot(Pools& pools, std::string pool) : pools_(pools), pool_(std::move(pool)) { pools_.Acquire(pool_); }
    ~Slot() { pools_.Release(pool_); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    Pools& pools_;
    std::string pool_;
  };

 private:
  bool HasRoom(const std::string& pool);

  std::mutex mutex_;
  std::condition_variable freed_;
  std::map<std::string, int> depths_;
  std::map<std::string, int> in_use_;
  std::function<void()> listener_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_POOLS_H_
