#ifndef AMLC_BASE_CLOCK_H_
#define AMLC_BASE_CLOCK_H_

#include <cstdint>
#include <functional>

namespace amlc {

/// Unix time in milliseconds (UTC): the system clock, or the clock a test set
/// with SetClockForTesting. Every recorded timestamp (runs, syncs, journal
/// entries, secrets) reads this one function, so a test can pin them all.
/// Never fails.
int64_t NowMillis();

/// Makes NowMillis() return `now()` until the next call; an empty function
/// restores the system clock. For tests only: production code never sets a
/// clock. Safe to call while other threads read NowMillis().
void SetClockForTesting(std::function<int64_t()> now);

}  // namespace amlc

#endif  // AMLC_BASE_CLOCK_H_
