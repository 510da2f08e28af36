#include "runtime/artifacts/snapshot/ignore_rules.h"

#include <cctype>

// Implementation notes
//
// The matcher follows git's wildmatch with WM_PATHNAME: a recursive walk over
// pattern and text where every `*` tries each split of the text. Plain
// backtracking is exponential on patterns like "*a*a*a*b", so a failed attempt
// reports how far the failure reaches:
//   kAbortAll          the text ran out; no later split of any enclosing star
//                      can do better, so every star gives up at once.
//   kAbortToDoubleStar a single star would have to swallow a '/'; only an
//                      enclosing `**` (which may) keeps trying.
// With these, each star tries each position at most once per enclosing
// attempt, which keeps the matcher linear-ish on names and paths.

namespace amlc::runtime {
namespace {

enum class Wild { kMatch, kNoMatch, kAbortAll, kAbortToDoubleStar };

Wild DoWild(std::string_view pattern, size_t p, std::string_view text, size_t t);

bool MatchNamedClass(std::string_view name, unsigned char c) {
  if (name == "alnum") return std::isalnum(c);
  if (name == "alpha") return std::isalpha(c);
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c);
  if (name == "digit") return std::isdigit(c);
  if (name == "graph") return std::isgraph(c);
  if (name == "lower") return std::islower(c);
  if (name == "print") return std::isprint(c);
  if (name == "punct") return std::ispunct(c);
  if (name == "space") return std::isspace(c);
  if (name == "upper") return std::isupper(c);
  if (name == "xdigit") return std::isxdigit(c);
  return false;
}

// Reads one character of a bracket expression at pattern[*i], honouring '\'
// escapes; leaves *i on the character's last byte.
unsigned char ClassChar(std::string_view pattern, size_t* i) {
  if (pattern[*i] == '\\' && *i + 1 < pattern.size()) ++*i;
  return static_cast<unsigned char>(pattern[*i]);
}

// Matches `c` against the bracket expression opening at pattern[*p] ('[').
// Returns false when the expression is never closed (the pattern then
// matches nothing, as in git); otherwise leaves *p on the closing ']'.
bool MatchClass(std::string_view pattern, size_t* p, unsigned char c, bool* matched) {
  size_t i = *p + 1;
  bool negated = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negated) ++i;
  bool found = false;
  for (size_t first = i; i < pattern.size(); ++i) {
    if (pattern[i] == ']' && i != first) {  // a ']' right after '[' is literal
      *p = i;
      *matched = found != negated;
      return true;
    }
    if (pattern.compare(i, 2, "[:") == 0) {
      size_t close = pattern.find(":]", i + 2);
      if (close != std::string_view::npos) {
        found |= MatchNamedClass(pattern.substr(i + 2, close - i - 2), c);
        i = close + 1;
        continue;
      }
    }
    unsigned char low = ClassChar(pattern, &i);
    unsigned char high = low;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      i += 2;
      high = ClassChar(pattern, &i);
    }
    found |= low <= c && c <= high;
  }
  return false;
}

// Matches the stars at pattern[p] and whatever follows them against
// text[t...]; see the implementation notes for the abort codes.
Wild MatchStar(std::string_view pattern, size_t p, std::string_view text, size_t t) {
  size_t first_star = p;
  while (p < pattern.size() && pattern[p] == '*') ++p;
  bool crosses_folders = false;
  if (p - first_star >= 2) {
    // "**" is special only as a whole path segment; "a**b" is "a*b".
    bool starts_segment = first_star == 0 || pattern[first_star - 1] == '/';
    bool ends_segment = p == pattern.size() || pattern[p] == '/';
    if (starts_segment && ends_segment) {
      // "**/" also stands for no folder at all: "a/**/b" matches "a/b".
      if (p < pattern.size() && DoWild(pattern, p + 1, text, t) == Wild::kMatch) {
        return Wild::kMatch;
      }
      crosses_folders = true;
    }
  }
  if (p == pattern.size()) {
    bool stays_in_folder = text.find('/', t) == std::string_view::npos;
    return crosses_folders || stays_in_folder ? Wild::kMatch : Wild::kNoMatch;
  }
  for (; t < text.size(); ++t) {
    Wild result = DoWild(pattern, p, text, t);
    if (result != Wild::kNoMatch) {
      if (!crosses_folders || result != Wild::kAbortToDoubleStar) return result;
    } else if (!crosses_folders && text[t] == '/') {
      return Wild::kAbortToDoubleStar;
    }
  }
  // The rest of the pattern needs at least one character (stars were merged).
  return Wild::kAbortAll;
}

Wild DoWild(std::string_view pattern, size_t p, std::string_view text, size_t t) {
  for (; p < pattern.size(); ++p, ++t) {
    char pc = pattern[p];
    if (pc == '*') return MatchStar(pattern, p, text, t);
    if (t >= text.size()) return Wild::kAbortAll;
    switch (pc) {
      case '?':
        if (text[t] == '/') return Wild::kNoMatch;
        break;
      case '[': {
        bool matched = false;
        if (!MatchClass(pattern, &p, static_cast<unsigned char>(text[t]), &matched)) {
          return Wild::kAbortAll;
        }
        if (!matched || text[t] == '/') return Wild::kNoMatch;
        break;
      }
      case '\\':
        if (p + 1 < pattern.size()) pc = pattern[++p];
        [[fallthrough]];
      default:
        if (text[t] != pc) return Wild::kNoMatch;
    }
  }
  return t == text.size() ? Wild::kMatch : Wild::kNoMatch;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  return DoWild(pattern, 0, path, 0) == Wild::kMatch;
}

bool IgnoreRules::ParseLine(std::string_view line, Rule* rule) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
  if (line.empty() || line.front() == '#') return false;
  // Trailing spaces are dropped unless escaped ("a\ " keeps one space).
  while (!line.empty() && line.back() == ' ' &&
         !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
    line.remove_suffix(1);
  }
  if (!line.empty() && line.front() == '!') {
    rule->negated = true;
    line.remove_prefix(1);
  }
  if (!line.empty() && line.back() == '/') {
    rule->folder_only = true;
    line.remove_suffix(1);
  }
  rule->anchored = line.find('/') != std::string_view::npos;
  if (!line.empty() && line.front() == '/') line.remove_prefix(1);
  rule->pattern = std::string(line);
  return !rule->pattern.empty();
}

IgnoreRules IgnoreRules::Parse(std::string_view text) {
  IgnoreRules rules;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    Rule rule;
    if (ParseLine(line, &rule)) rules.rules_.push_back(std::move(rule));
  }
  return rules;
}

bool IgnoreRules::IsIgnored(std::string_view path, bool is_folder) const {
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  // The last matching pattern decides, so look from the end.
  for (auto rule = rules_.rbegin(); rule != rules_.rend(); ++rule) {
    if (rule->folder_only && !is_folder) continue;
    if (GlobMatch(rule->pattern, rule->anchored ? path : name)) return !rule->negated;
  }
  return false;
}

}  // namespace amlc::runtime
