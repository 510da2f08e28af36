#ifndef AMLC_RUNTIME_COMPUTE_ENVIRONMENTS_H_
#define AMLC_RUNTIME_COMPUTE_ENVIRONMENTS_H_

#include <string>
#include <vector>

#include "base/status.h"

namespace amlc::runtime {

/// Makes (once per environment digest) a virtual environment for a
/// requirements list, under `home`/envs/<digest>: Debian's python3 -m venv
/// with the system's site packages, then a check that every requirement is
/// installed at a version it allows. This machine cannot download packages,
/// so a requirement that is not installed is an error naming it and what to
/// install instead. Returns the venv's interpreter.
StatusOr<std::string> PrepareVenv(const std::string& home, const std::string& digest,
                                  const std::vector<std::string>& requirements);

/// Ok when `python` can import every module in `modules`; else
/// kFailedPrecondition naming the ones it cannot import.
Status CheckImports(const std::string& python, const std::vector<std::string>& modules);

/// The requirement lines of a requirements.txt (comments, blanks and pip
/// options dropped).
StatusOr<std::vector<std::string>> ReadRequirements(const std::string& path);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_ENVIRONMENTS_H_
