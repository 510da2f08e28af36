#ifndef AMLC_CLI_REGISTRY_COMMANDS_H_
#define AMLC_CLI_REGISTRY_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace amlc::cli {

/// Registers `amlc models register|list|show|download|delete|tag` and
/// `amlc images list|show|tag|push|delete`.
void AddRegistryCommands(CLI::App& app, int& exit_code);

/// `models list` / `images list` rows (runtime::ModelJson / ImageJson, as
/// the workspace server answers them) printed as `-o` asks; the remote
/// twins (remote_registry.cc) print through these too.
void PrintModelRows(const nlohmann::json& rows, const std::string& format);
void PrintImageRows(const nlohmann::json& rows, const std::string& format);

/// One record's fields, "key:" padded, as `models show` / `images show` print them.
void PrintFields(const nlohmann::json& object);

/// "12 KB", "3 MB", "512 B"; a tag map as "k=v k2".
std::string SizeText(uint64_t bytes);
std::string TagsText(const std::map<std::string, std::string>& tags);

}  // namespace amlc::cli

#endif  // AMLC_CLI_REGISTRY_COMMANDS_H_
