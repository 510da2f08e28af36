#ifndef AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_IGNORE_RULES_H_
#define AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_IGNORE_RULES_H_

#include <string>
#include <string_view>
#include <vector>

namespace amlc::runtime {

/// The patterns of one .amlignore or .gitignore file, read with git's rules
/// (gitignore(5)): `*`, `?` and `[...]` globs that never cross a '/', `**`
/// across folders, a trailing '/' for folders only, a leading or middle '/'
/// anchoring the pattern to the folder the file is in, '!' re-including, '#'
/// comments, blank lines, '\' escapes. The last matching pattern decides.
///
/// As in git, a file inside an ignored folder cannot be re-included: callers
/// walk top-down and do not enter folders IsIgnored() rejects.
class IgnoreRules {
 public:
  IgnoreRules() = default;

  /// Reads the text of an ignore file. Never fails: a line that matches
  /// nothing (an unclosed `[`, a lone "!") is kept and simply never matches.
  static IgnoreRules Parse(std::string_view text);

  /// True when `path` (relative to the folder holding the ignore file,
  /// '/'-separated, no leading or trailing '/') is ignored. `is_folder` says
  /// whether it names a folder, for patterns ending in '/'.
  bool IsIgnored(std::string_view path, bool is_folder) const;

  /// True when there are no patterns (ignoring nothing).
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::string pattern;  // without the '!', the trailing '/' and a leading '/'
    bool negated = false;
    bool folder_only = false;
    bool anchored = false;  // matched against the whole path, not the last name
  };

  static bool ParseLine(std::string_view line, Rule* rule);

  std::vector<Rule> rules_;
};

/// True when `path` matches the glob `pattern` with gitignore's
/// path semantics: `*`, `?` and `[...]` do not match '/', `**` between
/// slashes (or at either end) matches any number of folders.
bool GlobMatch(std::string_view pattern, std::string_view path);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_SNAPSHOT_IGNORE_RULES_H_
