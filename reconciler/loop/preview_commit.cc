#include "reconciler/loop/preview_commit.h"

#include "reconciler/loop/commit_plan.h"
#include "reconciler/preview/preview_markdown.h"

namespace amlc::reconciler {

StatusOr<PreviewResult> PreviewCommit(const GitMirror& mirror, runtime::Workspace& workspace,
                                      const PreviewRequest& request, const std::string& trees_dir) {
  auto head = mirror.ResolveRevision(request.head);
  if (!head.ok()) return head.status();
  auto compiled = CompileCommit(mirror, head.value(), request.path, trees_dir);
  if (!compiled.ok()) return compiled.status();
  const CompiledCommit& commit = *compiled.value();

  PreviewInput input;
  input.repository = request.repository;
  input.pull_request = request.pull_request;
  input.head_ref = request.head;
  input.head_commit = head.value();
  input.base_ref = request.base;
  if (auto base = mirror.ResolveRevision(request.base); base.ok()) input.base_commit = base.value();
  input.diagnostics = compiler::DiagnosticsText(*commit.compilation, false);
  input.errors = commit.compilation->diagnostics.error_count();
  input.warnings = commit.compilation->diagnostics.warning_count();

  std::unique_ptr<runtime::Session> planned;
  if (commit.compiles()) {
    planned = PlanCommit(workspace, commit, {});
    for (const std::string& error : planned->errors()) input.diagnostics += "error: " + error + "\n";
    input.errors += static_cast<int>(planned->errors().size());
    if (planned->errors().empty()) input.plan = &planned->plan();
  }
  PreviewResult result;
  result.compiles = input.plan != nullptr;
  result.changes = input.plan != nullptr && !input.plan->empty();
  result.markdown = RenderPreviewMarkdown(input);
  result.json = PreviewJson(input);
  return result;
}

}  // namespace amlc::reconciler
