#ifndef AMLC_BASE_TIME_H_
#define AMLC_BASE_TIME_H_

#include <cstdint>
#include <string>

namespace amlc {

/// `unix_ms` in UTC as strftime spells `format` ("%Y-%m-%dT%H:%M:%SZ"), the
/// milliseconds dropped. Everything amlc writes for people is in UTC, so
/// times from several machines read alike. Thread-safe (gmtime_r, not
/// gmtime's shared buffer). "" when the C library cannot convert the time
/// or the text would exceed 63 bytes.
std::string FormatUtcTime(int64_t unix_ms, const char* format);

/// "2024-05-01T12:00:00.123Z": ISO 8601 in UTC with milliseconds, as log
/// lines are stamped. "" when the C library cannot convert the time.
std::string IsoUtcMillis(int64_t unix_ms);

}  // namespace amlc

#endif  // AMLC_BASE_TIME_H_
