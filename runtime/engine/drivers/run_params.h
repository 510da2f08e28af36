#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_RUN_PARAMS_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_RUN_PARAMS_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/job_spec.h"

namespace amlc::runtime {

using RunParamList = std::vector<std::pair<std::string, std::string>>;

/// The text a param records for a literal value: a string as it is, a number
/// or boolean as JSON writes it, a mapping's `value` (or `default`) when that
/// is a literal; nullopt for anything else (files, folders, upstream outputs).
std::optional<std::string> ParamText(const compiler::ir::Value& value);

/// A run's params from its job's literal inputs (a sweep-bound input left out).
RunParamList ParamsOfInputs(const std::map<std::string, compiler::ir::JobInput>& inputs);

/// A sweep trial's params: its search-space values, by name.
RunParamList ParamsOfTrial(const std::map<std::string, compiler::ir::Value>& values);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_RUN_PARAMS_H_
