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

/// The shell script that makes the venv `venv` over `base_python` (shell
/// text: a quoted path, or an expression the shell evaluates) with the
/// system's site packages, once (a lock, then a .ready marker), and checks
/// `requirements` in it. Exit 0: ready; 1: requirements not met (it prints
/// which, one per line); 2: the venv could not be made. The same script
/// makes venvs here and on ssh hosts.
std::string VenvScript(const std::string& venv, const std::string& base_python,
                       const std::vector<std::string>& requirements);

/// What VenvScript's exit `code` and `output` mean, as an error; `where`
/// names the host (" on HOST"), or is empty for this machine.
Status VenvFailure(int code, const std::string& output, const std::string& where);

/// Ok when `python` can import every module in `modules`; else
/// kFailedPrecondition naming the ones it cannot import.
Status CheckImports(const std::string& python, const std::vector<std::string>& modules);

/// The requirement lines of a requirements.txt (comments, blanks and pip
/// options dropped).
StatusOr<std::vector<std::string>> ReadRequirements(const std::string& path);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_ENVIRONMENTS_H_
