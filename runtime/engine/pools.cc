#include "runtime/engine/pools.h"

namespace amlc::runtime {

bool Pools::HasRoom(const std::string& pool) {
  auto depth = depths_.find(pool);
  return depth == depths_.end() || depth->second <= 0 || in_use_[pool] < depth->second;
}

void Pools::SetDepths(std::map<std::string, int> depths) {
  std::lock_guard<std::mutex> lock(mutex_);
  depths_ = std::move(depths);
}

bool Pools::TryAcquire(const std::string& pool) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!HasRoom(pool)) return false;
  ++in_use_[pool];
  return true;
}

void Pools::Acquire(const std::string& pool) {
  std::unique_lock<std::mutex> lock(mutex_);
  freed_.wait(lock, [&] { return HasRoom(pool); });
  ++in_use_[pool];
}

void Pools::Release(const std::string& pool) {
  std::function<void()> listener;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_use_[pool];
    listener = listener_;
  }
  freed_.notify_all();
  if (listener) listener();
}

void Pools::OnRelease(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listener_ = std::move(listener);
}

}  // namespace amlc::runtime
