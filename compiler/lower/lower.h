#ifndef AMLC_COMPILER_LOWER_LOWER_H_
#define AMLC_COMPILER_LOWER_LOWER_H_

// The lowering pass, run by Compile after sema on a graph without errors:
// every job gets its effective spec (Resource::effective), and a sweep its
// trial's (Resource::trial), as ir::JobSpec values: component defaults
// applied, ${{parent.inputs.X}} and ${{parent.jobs.S.outputs.O}} bound, a
// command as literal and expression parts. What would run with a value
// missing is a diagnostic here, with a caret on the expression, instead of
// an empty string at run time.

#include <vector>

#include "compiler/ast/node.h"
#include "compiler/ir/graph.h"
#include "compiler/support/diagnostics.h"

namespace amlc::compiler::lower {

/// Lowers every job of `graph`. `bodies[i]` is the mapping resource i was
/// bound from (carets point into it); `sources` holds the files.
void LowerJobs(ir::Graph& graph, const std::vector<const ast::Node*>& bodies, const SourceManager& sources,
               DiagnosticEngine& diagnostics);

}  // namespace amlc::compiler::lower

#endif  // AMLC_COMPILER_LOWER_LOWER_H_
