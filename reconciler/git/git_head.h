#ifndef AMLC_RECONCILER_GIT_GIT_HEAD_H_
#define AMLC_RECONCILER_GIT_GIT_HEAD_H_

#include <string>

#include "base/status.h"

namespace amlc::reconciler {

/// The commit HEAD points at in the git repository holding `path` (searched
/// upwards, as git does), as 40 hex digits. kNotFound when `path` is in no
/// repository or the repository has no commit yet. libgit2 stays inside this
/// adapter.
StatusOr<std::string> HeadCommitOf(const std::string& path);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_GIT_GIT_HEAD_H_
