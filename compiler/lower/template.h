#ifndef AMLC_COMPILER_LOWER_TEMPLATE_H_
#define AMLC_COMPILER_LOWER_TEMPLATE_H_

// The one parser of ${{...}} expressions and $[[...]] optional segments.
// Sema checks what expressions name with it; the lowering pass keeps what
// it returns in the IR.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/job_spec.h"

namespace amlc::compiler::lower {

/// What is wrong with a template, and where in its text.
struct TemplateProblem {
  size_t offset = 0;
  size_t length = 0;
  std::string message;
  std::string hint;
};

/// The expression inside "${{" and "}}" (spaces around it ignored), typed;
/// nullopt when it is none of inputs.X, outputs.X, search_space.X,
/// parent.inputs.X, parent.outputs.X, parent.jobs.STEP.outputs.X, name,
/// default_datastore or default_compute. `text` and `range` are left empty.
std::optional<ir::Expression> ParseExpression(std::string_view inner);

/// Where text[offset, offset + length) lies in the source.
using Locate = std::function<SourceRange(size_t offset, size_t length)>;

/// Splits `text` into literal, expression and optional parts; every
/// expression gets its text as written and its range from `locate`. Appends
/// to `problems` each unterminated "${{" or "$[[", "$[[" inside another, and
/// unknown expression (an unterminated "${{" ends the parse).
ir::Template ParseTemplate(const std::string& text, const Locate& locate, std::vector<TemplateProblem>& problems);

/// Whether `text` holds a "${{".
inline bool HasExpression(std::string_view text) { return text.find("${{") != std::string_view::npos; }

}  // namespace amlc::compiler::lower

#endif  // AMLC_COMPILER_LOWER_TEMPLATE_H_
