#ifndef AMLC_COMPILER_SUPPORT_SPELLING_H_
#define AMLC_COMPILER_SUPPORT_SPELLING_H_

#include <string>
#include <string_view>
#include <vector>

namespace amlc::compiler {

/// Levenshtein distance, case-insensitive; stops early past max_distance.
int EditDistance(std::string_view a, std::string_view b, int max_distance);

/// The candidate closest to `word`, if it is close enough to be a likely typo
/// (at most a third of the word's length, and at most 3 edits); "" otherwise.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_SUPPORT_SPELLING_H_
