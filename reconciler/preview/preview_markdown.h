#ifndef AMLC_RECONCILER_PREVIEW_PREVIEW_MARKDOWN_H_
#define AMLC_RECONCILER_PREVIEW_PREVIEW_MARKDOWN_H_

// Pull-request previews, as Terraform + Atlantis show them: the plan of a PR's
// head against the live workspace, rendered as one markdown comment that the
// forge client posts once and then keeps updating in place.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "compiler/planner/plan.h"

namespace amlc::reconciler {

/// The first line of every preview comment. It is an HTML comment, so the
/// forge does not show it; the forge client finds the comment to update by it.
inline constexpr std::string_view kPreviewMarker = "<!-- amlc-preview -->";

/// What a preview is about: which pull request, which commits, and either the
/// plan of its head or, when the head does not compile, why not.
struct PreviewInput {
  std::string repository;  // "owner/name"
  int64_t pull_request = 0;
  std::string base_ref, base_commit, head_ref, head_commit;
  const compiler::planner::Plan* plan = nullptr;  // null when the head does not compile
  std::string diagnostics;  // plain text, no color; may hold warnings even when plan is set
  int errors = 0, warnings = 0;
};

/// GitHub's limit for one comment body.
inline constexpr size_t kForgeCommentLimit = 65536;

/// The preview as a markdown comment: the marker line, a heading naming head
/// and base, the bold summary, the actions grouped by type (create, update in
/// place, replace, destroy, runs), the models and images that get new
/// versions, the deployments that roll out, what is held back and what amlc
/// does not carry out, the warnings, and the full plan text folded at the end.
/// When the head does not compile: the error count and the diagnostics only.
/// Never longer than `max_chars` bytes (the full plan is trimmed first, then
/// the longest sections, and a note says so). Byte-identical for equal inputs.
std::string RenderPreviewMarkdown(const PreviewInput& input, size_t max_chars = kForgeCommentLimit);

/// The same content as JSON: {"repository", "pull_request", "head": {ref, commit},
/// "base": {ref, commit}, "compiles", "summary", "counts": {add, change,
/// destroy, run, up_to_date}, "actions" (as PlanToJson writes them),
/// "new_versions", "rollouts", "held_back", "deferred", "diagnostics",
/// "errors", "warnings"}.
nlohmann::json PreviewJson(const PreviewInput& input);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_PREVIEW_PREVIEW_MARKDOWN_H_
