#include "base/clock.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <utility>

namespace amlc {
namespace {

// The test clock sits behind a mutex; the flag lets the usual case (no test
// clock) skip the lock, since NowMillis runs on every request a scoring host
// records.
std::atomic<bool> g_test_clock_set{false};
std::mutex g_test_clock_mutex;
std::function<int64_t()>& TestClock() {
  static std::function<int64_t()> clock;
  return clock;
}

int64_t SystemNowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int64_t NowMillis() {
  if (!g_test_clock_set.load(std::memory_order_acquire)) return SystemNowMillis();
  std::lock_guard lock(g_test_clock_mutex);
  const std::function<int64_t()>& clock = TestClock();
  return clock ? clock() : SystemNowMillis();
}

void SetClockForTesting(std::function<int64_t()> now) {
  std::lock_guard lock(g_test_clock_mutex);
  bool set = static_cast<bool>(now);
  TestClock() = std::move(now);
  g_test_clock_set.store(set, std::memory_order_release);
}

}  // namespace amlc
