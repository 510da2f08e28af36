#include "compiler/ir/job_spec.h"

namespace amlc::compiler::ir {

namespace {

// Renders `parts` into `out`; false (and `out` unspecified) when `strict`
// and an expression has no value.
bool RenderParts(const std::vector<TemplatePart>& parts, const ExpressionValue& value, bool strict,
                 std::string& out) {
  for (const TemplatePart& part : parts) {
    switch (part.kind) {
      case TemplatePart::Kind::kLiteral:
        out += part.literal;
        break;
      case TemplatePart::Kind::kExpression: {
        std::optional<std::string> text = value(part.expression);
        if (!text && strict) return false;
        out += text.value_or("");
        break;
      }
      case TemplatePart::Kind::kOptional: {
        std::string segment;
        if (RenderParts(part.optional, value, true, segment)) out += segment;
        break;
      }
    }
  }
  return true;
}

void Collect(const std::vector<TemplatePart>& parts, std::vector<const Expression*>& out) {
  for (const TemplatePart& part : parts) {
    if (part.kind == TemplatePart::Kind::kExpression) out.push_back(&part.expression);
    if (part.kind == TemplatePart::Kind::kOptional) Collect(part.optional, out);
  }
}

}  // namespace

std::string Render(const Template& text, const ExpressionValue& value) {
  std::string out;
  RenderParts(text.parts, value, false, out);
  return out;
}

std::vector<const Expression*> ExpressionsOf(const Template& text) {
  std::vector<const Expression*> out;
  Collect(text.parts, out);
  return out;
}

}  // namespace amlc::compiler::ir
