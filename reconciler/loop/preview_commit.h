#ifndef AMLC_RECONCILER_LOOP_PREVIEW_COMMIT_H_
#define AMLC_RECONCILER_LOOP_PREVIEW_COMMIT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "reconciler/git/git_source.h"
#include "runtime/workspace/workspace.h"

namespace amlc::reconciler {

/// Which pull request to preview.
struct PreviewRequest {
  std::string repository;    // "owner/name", shown in the comment
  int64_t pull_request = 0;  // 0 = not a pull request (`amlc preview` by hand)
  std::string base;          // revision the head merges into ("main")
  std::string head;          // revision to plan: a branch, tag or commit
  std::string path = ".";    // folder of the specs in the repository
};

struct PreviewResult {
  std::string markdown;  // the comment
  nlohmann::json json;   // the same as JSON (PreviewJson)
  bool compiles = false;
  bool changes = false;  // it compiles and its plan changes something
};

/// Compiles the head of `request` from its git tree and plans it against the
/// live state of `workspace` without changing anything (no lock, no apply),
/// then renders the preview. The head's tree is exported under `trees_dir`
/// because a job's run key reads its code files. Errors: git's (an unknown
/// revision); specs that do not compile are a result (`compiles` false).
StatusOr<PreviewResult> PreviewCommit(const GitMirror& mirror, runtime::Workspace& workspace,
                                      const PreviewRequest& request, const std::string& trees_dir);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_PREVIEW_COMMIT_H_
