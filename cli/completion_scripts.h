#ifndef AMLC_CLI_COMPLETION_SCRIPTS_H_
#define AMLC_CLI_COMPLETION_SCRIPTS_H_

// Shell completion scripts for amlc, rendered from the command tree (so they
// follow the CLI11 definition): subcommands and options per command path;
// after an option that takes a value, and where nothing matches, file names.
#include <string>
#include <vector>

#include "cli/command_tree.h"

namespace amlc::cli {

std::string BashCompletion(const std::vector<CommandInfo>& tree);
std::string ZshCompletion(const std::vector<CommandInfo>& tree);
std::string FishCompletion(const std::vector<CommandInfo>& tree);

}  // namespace amlc::cli

#endif  // AMLC_CLI_COMPLETION_SCRIPTS_H_
