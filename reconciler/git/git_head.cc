#include "reconciler/git/git_head.h"

#include <git2.h>

#include "reconciler/git/libgit2_init.h"

namespace amlc::reconciler {

StatusOr<std::string> HeadCommitOf(const std::string& path) {
  internal::InitLibgit2();
  git_repository* repository = nullptr;
  if (git_repository_open_ext(&repository, path.c_str(), 0, nullptr) != 0) {
    return Status(StatusCode::kNotFound, "'" + path + "' is not in a git repository");
  }
  git_oid head;
  int error = git_reference_name_to_id(&head, repository, "HEAD");
  git_repository_free(repository);
  if (error != 0) return Status(StatusCode::kNotFound, "the repository of '" + path + "' has no commit yet");
  char hex[GIT_OID_HEXSZ + 1] = {0};
  git_oid_tostr(hex, sizeof hex, &head);
  return std::string(hex);
}

}  // namespace amlc::reconciler
