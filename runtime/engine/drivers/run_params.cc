#include "runtime/engine/drivers/run_params.h"

namespace amlc::runtime {

using compiler::ir::Value;

std::optional<std::string> ParamText(const Value& value) {
  switch (value.type()) {
    case Value::Type::kString: return value.as_string();
    case Value::Type::kBool:
    case Value::Type::kInt:
    case Value::Type::kDouble: return value.ToJson();
    case Value::Type::kMap: {
      if (value.Find("path")) return std::nullopt;  // a file or folder input
      for (const char* key : {"value", "default"}) {
        if (const Value* literal = value.Find(key); literal && !literal->is_map()) return ParamText(*literal);
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

RunParamList ParamsOfInputs(const std::map<std::string, compiler::ir::JobInput>& inputs) {
  RunParamList params;
  for (const auto& [name, input] : inputs) {
    if (input.binding) continue;
    if (auto text = ParamText(input.value)) params.emplace_back(name, *text);
  }
  return params;
}

RunParamList ParamsOfTrial(const std::map<std::string, Value>& values) {
  RunParamList params;
  for (const auto& [name, value] : values) {
    if (auto text = ParamText(value)) params.emplace_back(name, *text);
  }
  return params;
}

}  // namespace amlc::runtime
