// `amlc completion SHELL`: a completion script generated from the CLI11
// definition; `amlc completion commands`: the command list man pages are made from.
#include "cli/completion_command.h"

#include <cstdio>
#include <memory>

#include "cli/command_tree.h"
#include "cli/completion_scripts.h"
#include "cli/output.h"

namespace amlc::cli {

namespace {

// "runs list<TAB>List runs, newest first", one visible command per line.
std::string CommandList(const std::vector<CommandInfo>& tree) {
  std::string out;
  for (size_t i = 1; i < tree.size(); ++i) {
    out += tree[i].path.substr(5) + "\t" + tree[i].description.substr(0, tree[i].description.find('\n')) + "\n";
  }
  return out;
}

}  // namespace

void AddCompletionCommand(CLI::App& app, int& exit_code) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand("completion", "Print a shell completion script: bash, zsh or fish");
  completion->add_option("shell", *shell, "bash, zsh, fish; or commands: every command, one per line")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish", "commands"}));
  completion->footer(
      "bash:  source <(amlc completion bash)      (or save it in /etc/bash_completion.d/amlc)\n"
      "zsh:   amlc completion zsh > \"${fpath[1]}/_amlc\"\n"
      "fish:  amlc completion fish > ~/.config/fish/completions/amlc.fish\n"
      "The scripts follow the command definition of this amlc binary.");
  CLI::App* root = &app;
  completion->callback([shell, root, &exit_code] {
    std::vector<CommandInfo> tree = CommandTree(*root);
    std::string script = *shell == "bash"   ? BashCompletion(tree)
                         : *shell == "zsh"  ? ZshCompletion(tree)
                         : *shell == "fish" ? FishCompletion(tree)
                                            : CommandList(tree);
    std::fputs(script.c_str(), stdout);
    exit_code = kExitOk;
  });
}

}  // namespace amlc::cli
