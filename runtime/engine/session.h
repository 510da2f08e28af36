#ifndef AMLC_RUNTIME_ENGINE_SESSION_H_
#define AMLC_RUNTIME_ENGINE_SESSION_H_

// One spec tree, compiled, planned against one workspace and applied: the
// sequence `amlc plan`, `amlc apply` and `amlc destroy`, every reconciler
// pass and preview, and (next) the workspace server all go through.
//
//   compile ─► open the workspace ─► lock it (reaping runs a killed apply
//   lost) ─► plan, stamped with the state serial and specs digest ─► apply

#include <memory>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "compiler/planner/planner.h"
#include "runtime/engine/applier.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

class Session {
 public:
  /// Compiles every spec of `tree`; their relative paths (code folders,
  /// conda files) start at `specs_root`. Spec errors are diagnostics of the
  /// compilation (see compiles()).
  static std::unique_ptr<Session> Compile(const compiler::SourceTree& tree, std::string specs_root);
  /// A session over a compilation made elsewhere (the reconciler compiles a
  /// commit once and plans it on every pass); it must outlive the session.
  Session(const compiler::Compilation& compilation, std::string specs_root);

  bool compiles() const { return !compilation_.diagnostics.has_errors(); }
  const compiler::Compilation& compilation() const { return compilation_; }
  const std::string& specs_root() const { return specs_root_; }

  /// Opens (creating on first use) the workspace at `home`. Fails when its
  /// folder or state store cannot be opened.
  Status OpenWorkspace(const std::string& home);
  /// Uses a workspace opened already (it must outlive the session).
  void UseWorkspace(Workspace& workspace);
  Workspace& workspace() { return *workspace_; }
  /// The dispatcher to the drivers; valid once a workspace is open.
  Applier& applier() { return *applier_; }

  /// Takes the workspace's apply lock, waiting up to `timeout_seconds`
  /// (`waiting` hears the holder's pid once), then puts right what a killed
  /// apply left: its lost runs Failed, its activities Interrupted. Returns
  /// how many of each; kUnavailable on timeout.
  StatusOr<ReapedWork> Lock(double timeout_seconds, void (*waiting)(long holder_pid));

  /// Plans the specs against the workspace and stamps the plan with what it
  /// was made from (state serial, specs digest, specs folder, workspace), so
  /// a saved plan is applied only to the state it was made for. Keys that
  /// could not be computed are in errors(); their jobs get no action.
  compiler::planner::Plan& MakePlan(const compiler::planner::PlanOptions& options,
                                    const std::string& specs_dir = "");
  compiler::planner::Plan& plan() { return plan_; }
  std::vector<std::string>& errors() { return errors_; }

  /// Carries out `plan` (this session's, or one saved from it and checked)
  /// with up to `parallelism` actions at once; one result per action.
  std::vector<ActionResult> Apply(const compiler::planner::Plan& plan, ProgressReporter& reporter, int parallelism,
                                  const std::string& apply_id);

  /// Keeps the compiled graph (AppliedGraphJson) as the workspace's applied
  /// specs, HOME/specs-graph.json, replaced atomically;
  /// what the server's GET /api/v1/graph answers. Apply calls it unless the
  /// plan was made to destroy; callers that skip Apply on an empty plan call
  /// it themselves.
  Status RecordAppliedGraph();

 private:
  std::unique_ptr<compiler::Compilation> owned_compilation_;  // when Compile made it
  const compiler::Compilation& compilation_;
  std::string specs_root_;
  std::unique_ptr<Workspace> owned_workspace_;  // when OpenWorkspace opened it
  Workspace* workspace_ = nullptr;
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<ApplyLock> lock_;
  compiler::planner::Plan plan_;
  bool destroying_ = false;  // the last MakePlan was for destroy
  std::vector<std::string> errors_;
};

/// Where RecordAppliedGraph keeps the graph in a workspace home.
std::string AppliedGraphPath(const std::string& home);

/// `amlc graph --format json` of `graph` without each resource's `spec` and
/// `digest`: a spec may hold a credential written inline, which a Reader may
/// not read. One resource a line: {"resources": [{"id", "kind", "type",
/// "name", "version", "parent"?, "depends_on"}], "order": [ID]}.
std::string AppliedGraphJson(const compiler::ir::Graph& graph);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_SESSION_H_
