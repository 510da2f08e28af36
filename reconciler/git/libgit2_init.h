#ifndef AMLC_RECONCILER_GIT_LIBGIT2_INIT_H_
#define AMLC_RECONCILER_GIT_LIBGIT2_INIT_H_

// Private to reconciler/git: the one libgit2 initialization of the process.

namespace amlc::reconciler::internal {

/// Initializes libgit2 on first call (thread-safe); later calls do nothing.
/// Every entry point of the git adapter calls it before touching libgit2.
void InitLibgit2();

}  // namespace amlc::reconciler::internal

#endif  // AMLC_RECONCILER_GIT_LIBGIT2_INIT_H_
