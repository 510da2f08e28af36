#include "base/time.h"

#include <cstdio>
#include <ctime>

namespace amlc {
namespace {

// Whole seconds and the milliseconds past them, rounded towards the past so
// that times before 1970 stay right (-1 ms is 23:59:59.999).
void SplitMillis(int64_t unix_ms, std::time_t* seconds, int* millis) {
  int64_t whole = unix_ms / 1000;
  int64_t rest = unix_ms % 1000;
  if (rest < 0) {
    rest += 1000;
    whole -= 1;
  }
  *seconds = static_cast<std::time_t>(whole);
  *millis = static_cast<int>(rest);
}

}  // namespace

std::string FormatUtcTime(int64_t unix_ms, const char* format) {
  std::time_t seconds = 0;
  int millis = 0;
  SplitMillis(unix_ms, &seconds, &millis);
  std::tm parts{};
  if (gmtime_r(&seconds, &parts) == nullptr) return "";
  char text[64];
  size_t length = std::strftime(text, sizeof text, format, &parts);
  return std::string(text, length);
}

std::string IsoUtcMillis(int64_t unix_ms) {
  std::string whole = FormatUtcTime(unix_ms, "%Y-%m-%dT%H:%M:%S");
  if (whole.empty()) return "";
  std::time_t seconds = 0;
  int millis = 0;
  SplitMillis(unix_ms, &seconds, &millis);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", millis);
  return whole + fraction;
}

}  // namespace amlc
