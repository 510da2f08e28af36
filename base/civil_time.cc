#include "base/civil_time.h"

#include <cctype>
#include <cstdio>

namespace amlc {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = FloorDiv(year, 400);
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

namespace {

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

}  // namespace

int DaysInMonth(int64_t year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

CivilTime ToCivil(int64_t unix_ms) {
  CivilTime civil;
  civil.day_index = FloorDiv(unix_ms, kDayMs);
  int64_t ms_of_day = unix_ms - civil.day_index * kDayMs;
  civil.hour = static_cast<int>(ms_of_day / kHourMs);
  civil.minute = static_cast<int>(ms_of_day % kHourMs / kMinuteMs);
  civil.second = static_cast<int>(ms_of_day % kMinuteMs / 1000);
  civil.week_day = static_cast<int>(((civil.day_index + 4) % 7 + 7) % 7);
  const int64_t z = civil.day_index + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;
  civil.day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  civil.month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  civil.year = year_of_era + era * 400 + (civil.month <= 2);
  return civil;
}

namespace {

// Reads `count` digits at `pos` into `out`.
bool ReadDigits(std::string_view text, size_t& pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool ReadChar(std::string_view text, size_t& pos, char expected) {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

// "Z", "+02:00", "-0530", or nothing (UTC): the offset east of UTC, in minutes.
bool ReadOffset(std::string_view text, size_t& pos, int& offset_minutes) {
  offset_minutes = 0;
  if (pos == text.size()) return true;
  if (ReadChar(text, pos, 'Z') || ReadChar(text, pos, 'z')) return pos == text.size();
  int sign = text[pos] == '+' ? 1 : text[pos] == '-' ? -1 : 0;
  if (sign == 0) return false;
  ++pos;
  int hours = 0, minutes = 0;
  if (!ReadDigits(text, pos, 2, hours)) return false;
  if (pos < text.size()) {
    ReadChar(text, pos, ':');
    if (!ReadDigits(text, pos, 2, minutes)) return false;
  }
  if (hours > 23 || minutes > 59 || pos != text.size()) return false;
  offset_minutes = sign * (hours * 60 + minutes);
  return true;
}

// "T02:00", "T02:00:30", "T02:00:30.250" after a date; fractions of a second
// are read and dropped, as no schedule fires on them.
bool ReadTimeOfDay(std::string_view text, size_t& pos, int& hour, int& minute, int& second) {
  if (!ReadDigits(text, pos, 2, hour) || !ReadChar(text, pos, ':') || !ReadDigits(text, pos, 2, minute)) {
    return false;
  }
  if (ReadChar(text, pos, ':') && !ReadDigits(text, pos, 2, second)) return false;
  if (ReadChar(text, pos, '.') || ReadChar(text, pos, ',')) {
    size_t digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos, ++digits;
    if (digits == 0) return false;
  }
  return hour <= 23 && minute <= 59 && second <= 59;
}

}  // namespace

std::optional<int64_t> ParseIsoTime(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset = 0;
  if (!ReadDigits(text, pos, 4, year) || !ReadChar(text, pos, '-') || !ReadDigits(text, pos, 2, month) ||
      !ReadChar(text, pos, '-') || !ReadDigits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    ++pos;
    if (!ReadTimeOfDay(text, pos, hour, minute, second)) return std::nullopt;
  }
  if (!ReadOffset(text, pos, offset)) return std::nullopt;
  int64_t seconds = DaysFromCivil(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second - offset * 60;
  return seconds * 1000;
}

std::string FormatUtc(int64_t unix_ms) {
  CivilTime c = ToCivil(unix_ms);
  char text[40];
  std::snprintf(text, sizeof text, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(c.year), c.month, c.day,
                c.hour, c.minute, c.second);
  return text;
}

}  // namespace amlc
