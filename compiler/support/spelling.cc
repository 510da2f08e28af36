#include "compiler/support/spelling.h"

#include <algorithm>
#include <cctype>

namespace amlc::compiler {

int EditDistance(std::string_view a, std::string_view b, int max_distance) {
  if (static_cast<int>(a.size()) - static_cast<int>(b.size()) > max_distance ||
      static_cast<int>(b.size()) - static_cast<int>(a.size()) > max_distance) {
    return max_distance + 1;
  }
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    int best = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      int next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
      best = std::min(best, next);
    }
    if (best > max_distance) return max_distance + 1;
  }
  return row[b.size()];
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
