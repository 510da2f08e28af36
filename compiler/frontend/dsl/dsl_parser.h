#ifndef AMLC_COMPILER_FRONTEND_DSL_DSL_PARSER_H_
#define AMLC_COMPILER_FRONTEND_DSL_DSL_PARSER_H_

#include <vector>

#include "compiler/ast/node.h"
#include "compiler/support/diagnostics.h"

namespace amlc::compiler::dsl {

/// Parses one .aml file into ast documents, one per block. Every syntax error
/// of the file is reported (ANTLR recovers and goes on); ANTLR's exceptions
/// and types never leave this module. A block `kind "label" { ... }` becomes a
/// document whose body maps "name" to the label.
std::vector<ast::Document> ParseDsl(const SourceManager& sources, FileId file,
                                    DiagnosticEngine& diagnostics);

/// DSL strings write interpolation as ${inputs.x}; Azure ML YAML writes
/// ${{inputs.x}}. Returns the text with every ${...} spelled the YAML way.
std::string NormalizeInterpolation(std::string_view text);

}  // namespace amlc::compiler::dsl

#endif  // AMLC_COMPILER_FRONTEND_DSL_DSL_PARSER_H_
