#ifndef AMLC_BASE_DURATION_H_
#define AMLC_BASE_DURATION_H_

#include <cstdint>
#include <string_view>

namespace amlc {

/// Seconds in a duration, one syntax for every spec field and flag: whole
/// seconds ("90", "+90"), Go-style units ("90s", "5m", "1h30m", "2d", "1w",
/// any case) or ISO 8601 ("PT1H30M", "P1DT2H", "P1W"). -1 when malformed: a
/// negative number, an unknown unit, a number with no unit, an amount of more
/// than nine digits, ISO months or years (their length varies), or nothing at
/// all ("", "PT").
int64_t ParseDurationSeconds(std::string_view text);

}  // namespace amlc

#endif  // AMLC_BASE_DURATION_H_
