#include "base/duration.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace amlc {
namespace {

// "300", "-5", "+5": an optional sign and up to 19 characters (what int64 holds).
bool IsWholeNumber(std::string_view text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i >= text.size() || text.size() > 19) return false;
  return std::all_of(text.begin() + i, text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Seconds in one `unit`; 0 for a unit not allowed here. Minutes, hours and
// seconds belong to ISO's time part ("PT5M"); before its 'T', 'M' is months.
int64_t UnitSeconds(char unit, bool in_time) {
  switch (std::tolower(static_cast<unsigned char>(unit))) {
    case 's': return in_time ? 1 : 0;
    case 'm': return in_time ? 60 : 0;
    case 'h': return in_time ? 3600 : 0;
    case 'd': return 86400;
    case 'w': return 604800;
    default: return 0;
  }
}

}  // namespace

int64_t ParseDurationSeconds(std::string_view text) {
  if (IsWholeNumber(text)) {
    int64_t seconds = std::strtoll(std::string(text).c_str(), nullptr, 10);
    return seconds < 0 ? -1 : seconds;
  }
  bool iso = text.starts_with("P");
  if (iso) text.remove_prefix(1);
  bool in_time = !iso;
  int64_t total = 0;
  bool any = false;
  while (!text.empty()) {
    if (iso && text[0] == 'T') {
      if (in_time) return -1;
      in_time = true;
      text.remove_prefix(1);
      continue;
    }
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0 || digits > 9 || digits == text.size()) return -1;
    int64_t amount = std::strtoll(std::string(text.substr(0, digits)).c_str(), nullptr, 10);
    int64_t scale = UnitSeconds(text[digits], in_time);
    if (scale == 0) return -1;
    total += amount * scale;
    any = true;
    text.remove_prefix(digits + 1);
  }
  return any ? total : -1;
}

}  // namespace amlc
