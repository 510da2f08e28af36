#include "compiler/lower/template.h"

namespace amlc::compiler::lower {

using ir::Expression;
using ir::TemplatePart;

namespace {

constexpr std::string_view kOpen = "${{";
constexpr std::string_view kClose = "}}";
constexpr std::string_view kOptionalOpen = "$[[";
constexpr std::string_view kOptionalClose = "]]";

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> SplitDots(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t dot; (dot = text.find('.', start)) != std::string_view::npos; start = dot + 1) {
    parts.push_back(text.substr(start, dot - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::optional<Expression> Make(Expression::Kind kind, std::string_view name, std::string_view step = {}) {
  if (name.empty() && kind != Expression::Kind::kJobName && kind != Expression::Kind::kDefaultDatastore &&
      kind != Expression::Kind::kDefaultCompute) {
    return std::nullopt;
  }
  Expression expression;
  expression.kind = kind;
  expression.name = std::string(name);
  expression.step = std::string(step);
  return expression;
}

// Appends literal text to the last part when it is literal, else a new part.
void AppendLiteral(std::vector<TemplatePart>& parts, std::string_view text) {
  if (text.empty()) return;
  if (parts.empty() || parts.back().kind != TemplatePart::Kind::kLiteral) parts.emplace_back();
  parts.back().literal += text;
}

}  // namespace

std::optional<Expression> ParseExpression(std::string_view inner) {
  using Kind = Expression::Kind;
  std::vector<std::string_view> parts = SplitDots(Trim(inner));
  std::string_view root = parts[0];
  if (parts.size() == 1) {
    if (root == "name") return Make(Kind::kJobName, "");
    if (root == "default_datastore") return Make(Kind::kDefaultDatastore, "");
    if (root == "default_compute") return Make(Kind::kDefaultCompute, "");
    return std::nullopt;
  }
  if (parts.size() == 2) {
    if (root == "inputs") return Make(Kind::kInput, parts[1]);
    if (root == "outputs") return Make(Kind::kOutput, parts[1]);
    if (root == "search_space") return Make(Kind::kSearchSpace, parts[1]);
    return std::nullopt;
  }
  if (root != "parent") return std::nullopt;
  if (parts.size() == 3 && parts[1] == "inputs") return Make(Kind::kParentInput, parts[2]);
  if (parts.size() == 3 && parts[1] == "outputs") return Make(Kind::kParentOutput, parts[2]);
  if (parts.size() == 5 && parts[1] == "jobs" && parts[3] == "outputs" && !parts[2].empty()) {
    return Make(Kind::kParentStepOutput, parts[4], parts[2]);
  }
  return std::nullopt;
}

ir::Template ParseTemplate(const std::string& text, const Locate& locate, std::vector<TemplateProblem>& problems) {
  ir::Template result;
  result.source = text;
  std::vector<TemplatePart>* parts = &result.parts;  // the optional segment's while one is open
  size_t optional_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    std::string_view rest = std::string_view(text).substr(i);
    if (rest.starts_with(kOptionalOpen)) {
      if (parts != &result.parts) {
        problems.push_back({i, kOptionalOpen.size(), "'$[[' inside another optional segment", "close the first with ]]"});
      } else {
        result.parts.emplace_back().kind = TemplatePart::Kind::kOptional;
        parts = &result.parts.back().optional;
        optional_start = i;
      }
      i += kOptionalOpen.size();
    } else if (rest.starts_with(kOptionalClose) && parts != &result.parts) {
      parts = &result.parts;
      i += kOptionalClose.size();
    } else if (rest.starts_with(kOpen)) {
      size_t close = text.find(kClose, i + kOpen.size());
      if (close == std::string::npos) {
        problems.push_back({i, text.size() - i, "unterminated expression '${{'", "close it with }}"});
        return result;
      }
      std::string_view inner = std::string_view(text).substr(i + kOpen.size(), close - i - kOpen.size());
      size_t length = close + kClose.size() - i;
      if (std::optional<Expression> expression = ParseExpression(inner)) {
        expression->text = text.substr(i, length);
        expression->range = locate(i, length);
        TemplatePart& part = parts->emplace_back();
        part.kind = TemplatePart::Kind::kExpression;
        part.expression = std::move(*expression);
      } else {
        problems.push_back({i, length, "unknown expression '${{" + std::string(Trim(inner)) + "}}'",
                            "expressions are ${{inputs.X}}, ${{outputs.X}}, ${{search_space.X}}, "
                            "${{parent.inputs.X}}, ${{parent.outputs.X}} or ${{parent.jobs.STEP.outputs.X}}"});
      }
      i += length;
    } else {
      size_t next = text.find_first_of("$]", i + 1);
      AppendLiteral(*parts, std::string_view(text).substr(i, (next == std::string::npos ? text.size() : next) - i));
      i = next == std::string::npos ? text.size() : next;
    }
  }
  if (parts != &result.parts) {
    problems.push_back({optional_start, text.size() - optional_start, "unterminated optional segment '$[['",
                        "close it with ]]"});
  }
  return result;
}

}  // namespace amlc::compiler::lower
