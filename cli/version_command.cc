#include "cli/version_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/build_info.h"
#include "cli/output.h"

namespace amlc::cli {

std::string VersionLine() {
  return std::string("amlc ") + kBuildVersion + " (commit " + kBuildCommit + ")";
}

void AddVersionCommand(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* version = app.add_subcommand("version", "Print amlc's version and the commit it was built from");
  version->add_flag("--json", *json, "Print {\"version\": ..., \"commit\": ...}");
  version->callback([json, &exit_code] {
    if (*json) {
      std::printf("%s\n", nlohmann::json({{"version", kBuildVersion}, {"commit", kBuildCommit}}).dump().c_str());
    } else {
      std::printf("%s\n", VersionLine().c_str());
    }
    exit_code = kExitOk;
  });
}

}  // namespace amlc::cli
