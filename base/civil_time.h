#ifndef AMLC_BASE_CIVIL_TIME_H_
#define AMLC_BASE_CIVIL_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amlc {

// The proleptic Gregorian calendar in UTC, by arithmetic (after Howard
// Hinnant's date algorithms): no time zone database and no libc time
// functions, so results are the same on every machine and in every thread.

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;

/// An instant broken into UTC calendar fields.
struct CivilTime {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int week_day = 4;       // 0 = Sunday; 1970-01-01 was a Thursday
  int64_t day_index = 0;  // days since 1970-01-01
};

/// a / b rounded towards minus infinity (b > 0), so times before 1970 fall
/// into the right day, week or month.
int64_t FloorDiv(int64_t a, int64_t b);

/// The calendar fields of unix milliseconds.
CivilTime ToCivil(int64_t unix_ms);

/// Days from 1970-01-01 to year-month-day (month 1..12; day may run past the
/// month's end, counting on).
int64_t DaysFromCivil(int64_t year, int month, int day);

/// 28..31.
int DaysInMonth(int64_t year, int month);

/// Unix milliseconds of an ISO 8601 time ("2026-01-31T02:00:00Z", with
/// fractions, an offset such as +02:00, or none meaning UTC; or a date alone
/// meaning its midnight); nullopt when malformed or not a real date.
std::optional<int64_t> ParseIsoTime(std::string_view text);

/// "2026-01-31T02:00:00Z" of unix milliseconds (whole seconds).
std::string FormatUtc(int64_t unix_ms);

}  // namespace amlc

#endif  // AMLC_BASE_CIVIL_TIME_H_
