#ifndef AMLC_RECONCILER_LOOP_COMMIT_PLAN_H_
#define AMLC_RECONCILER_LOOP_COMMIT_PLAN_H_

// The two steps every reconciler action starts with, for a pass of the
// tracked branch and for a pull request's preview alike: compile a commit's
// specs straight from its git tree, then plan them against the workspace.

#include <memory>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "compiler/planner/planner.h"
#include "reconciler/git/git_source.h"
#include "runtime/engine/session.h"
#include "runtime/workspace/workspace.h"

namespace amlc::reconciler {

/// A commit's specs, compiled.
struct CompiledCommit {
  CommitInfo info;
  std::unique_ptr<compiler::Compilation> compilation;
  /// The folder the specs' relative paths (code, conda files) start from: the
  /// commit's tree exported under the trees folder. "" when it does not compile.
  std::string specs_root;

  bool compiles() const { return !compilation->diagnostics.has_errors(); }
  /// "Alice <alice@example.com>".
  std::string author() const { return info.author_name + " <" + info.author_email + ">"; }
};

/// Compiles the specs under `path` of `commit` from its git tree (no
/// checkout). When they compile, the whole tree is exported to
/// `trees_dir`/COMMIT (once per commit) so runs take their code snapshots
/// from it. Errors are git's (an unknown commit, a missing folder); spec
/// errors are diagnostics in the result.
StatusOr<std::unique_ptr<CompiledCommit>> CompileCommit(const GitMirror& mirror, const std::string& commit,
                                                        const std::string& path, const std::string& trees_dir);

/// A compiled commit planned against the live state of a workspace: a
/// session whose plan() and errors() are the plan and the keys that could
/// not be computed, and whose applier() carries the plan out. It refers to
/// the commit's compilation, so the CompiledCommit must outlive it.
std::unique_ptr<runtime::Session> PlanCommit(runtime::Workspace& workspace, const CompiledCommit& commit,
                                             const compiler::planner::PlanOptions& options);

/// `id`'s first 7 characters, as git shows commits.
std::string ShortCommit(const std::string& id);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_COMMIT_PLAN_H_
