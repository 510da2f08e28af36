#ifndef AMLC_CLI_COMMAND_TREE_H_
#define AMLC_CLI_COMMAND_TREE_H_

// The commands and options of the CLI11 definition, read back from the app
// after every command registered itself: what shell completion and the man
// pages are generated from, so a new subcommand shows up in both by itself.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace amlc::cli {

struct OptionInfo {
  std::vector<std::string> names;  // "--json", "-o", "--output"
  std::string description;
  bool takes_value = false;  // else a flag
};

struct CommandInfo {
  std::string path;         // "amlc", "amlc runs", "amlc runs list"
  std::string description;
  std::vector<std::string> subcommands;  // names, visible ones only
  std::vector<std::string> subcommand_descriptions;
  std::vector<OptionInfo> options;       // named options, --help included
};

/// Every visible command under `root` (itself first), depth first. Commands
/// without a help group (CLI11's group("")), such as endpoint-host, are left
/// out: they are internal.
std::vector<CommandInfo> CommandTree(const CLI::App& root);

}  // namespace amlc::cli

#endif  // AMLC_CLI_COMMAND_TREE_H_
