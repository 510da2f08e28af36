#include "cli/command_tree.h"

namespace amlc::cli {

namespace {

OptionInfo OptionOf(const CLI::Option& option) {
  OptionInfo info;
  for (const std::string& name : option.get_snames()) info.names.push_back("-" + name);
  for (const std::string& name : option.get_lnames()) info.names.push_back("--" + name);
  info.description = option.get_description();
  info.takes_value = option.get_items_expected_max() > 0;  // flags expect 0 values
  return info;
}

void Walk(const CLI::App& app, const std::string& path, std::vector<CommandInfo>& out) {
  CommandInfo command;
  command.path = path;
  command.description = app.get_description();
  for (const CLI::Option* option : app.get_options()) {
    if (option->nonpositional()) command.options.push_back(OptionOf(*option));
  }
  std::vector<const CLI::App*> children =
      app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty() && !sub->get_disabled(); });
  for (const CLI::App* child : children) {
    command.subcommands.push_back(child->get_name());
    command.subcommand_descriptions.push_back(child->get_description());
  }
  out.push_back(std::move(command));
  for (const CLI::App* child : children) Walk(*child, path + " " + child->get_name(), out);
}

}  // namespace

std::vector<CommandInfo> CommandTree(const CLI::App& root) {
  std::vector<CommandInfo> out;
  Walk(root, root.get_name().empty() ? "amlc" : root.get_name(), out);
  return out;
}

}  // namespace amlc::cli
