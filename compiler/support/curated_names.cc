#include "compiler/support/curated_names.h"

namespace amlc::compiler {

std::optional<std::string> CuratedEnvironmentName(const std::string& reference) {
  std::string text = reference;
  const std::string registry = "azureml://registries/azureml/environments/";
  if (text.rfind(registry, 0) == 0) {
    text = text.substr(registry.size());
    text = text.substr(0, text.find('/'));
    return text.empty() ? std::nullopt : std::optional<std::string>(text);
  }
  for (const char* prefix : {"environment/", "azureml:"}) {
    if (text.rfind(prefix, 0) == 0) text = text.substr(std::string(prefix).size());
  }
  const std::string curated = "AzureML-";
  if (text.rfind(curated, 0) != 0) return std::nullopt;
  text = text.substr(curated.size());
  text = text.substr(0, text.find_first_of("@:"));
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

}  // namespace amlc::compiler
