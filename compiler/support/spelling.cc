#include "compiler/support/spelling.h"

#include <algorithm>
#include <cctype>

namespace amlc::compiler {

// Optimal string alignment distance (Levenshtein plus adjacent
// transpositions, so "jbo" is one edit from "job"), case-insensitive.
int EditDistance(std::string_view a, std::string_view b, int max_distance) {
  if (static_cast<int>(a.size()) - static_cast<int>(b.size()) > max_distance ||
      static_cast<int>(b.size()) - static_cast<int>(a.size()) > max_distance) {
    return max_distance + 1;
  }
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  std::vector<int> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = static_cast<int>(i);
    int best = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      int cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
      best = std::min(best, row[j]);
    }
    if (best > max_distance) return max_distance + 1;
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[b.size()];
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  int allowed = std::min<int>(3, std::max<int>(1, static_cast<int>(word.size()) / 3));
  std::string best;
  int best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    int distance = EditDistance(word, candidate, allowed);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string match = ClosestMatch(word, candidates);
  return match.empty() ? "" : " (did you mean '" + match + "'?)";
}

}  // namespace amlc::compiler
