// `amlc lineage`: one command from an answer's headers back to the commit.
#include "cli/lineage_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/artifacts/registry/lineage.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

struct LineageOptions {
  std::string start;
  std::string workspace;
  bool json_output = false;
};

void PrintRun(const json& run, const std::string& indent) {
  if (run.value("missing", false)) {
    std::printf("%srun       %s (purged from the workspace)\n", indent.c_str(), run.value("id", "").c_str());
    return;
  }
  std::printf("%srun       %s  (%s, experiment %s, %s)\n", indent.c_str(), run.value("id", "").c_str(),
              run.value("job", "").c_str(), run.value("experiment", "").c_str(), run.value("status", "").c_str());
  if (run.contains("parent")) std::printf("%s  trial of %s\n", indent.c_str(), run.value("parent", "").c_str());
  std::string snapshot = run.value("snapshot_digest", "");
  std::printf("%ssnapshot  %s\n", indent.c_str(), snapshot.empty() ? "(no code folder)" : snapshot.c_str());
  std::string commit = run.value("spec_commit", "");
  std::printf("%scommit    %s\n", indent.c_str(), commit.empty() ? "(specs not in git)" : commit.c_str());
}

void PrintModel(const json& model) {
  std::string label = model.value("name", "") + ":" + std::to_string(model.value("version", 0));
  if (model.value("missing", false)) {
    std::printf("model     %s (deleted)\n", label.c_str());
    return;
  }
  std::printf("model     %s  content %s\n", label.c_str(), model.value("content_digest", "").c_str());
  if (model.contains("run")) {
    PrintRun(model["run"], "  ");
  } else {
    std::string commit = model.value("spec_commit", "");
    std::printf("  registered from files, not a run; commit %s\n", commit.empty() ? "(none)" : commit.c_str());
  }
}

void PrintLineage(const json& chain) {
  if (chain.contains("deployment")) {
    const json& d = chain["deployment"];
    std::printf("deployment %s/%s  %s\n", d.value("endpoint", "").c_str(), d.value("name", "").c_str(),
                d.value("scoring_uri", "").c_str());
  }
  if (chain.contains("image")) {
    const json& i = chain["image"];
    std::string label = i.value("name", "") + ":" + std::to_string(i.value("version", 0));
    std::printf("image     %s  %s\n", label.c_str(),
                i.value("missing", false) ? "(deleted)" : i.value("digest", "").c_str());
  }
  for (const json& model : chain.value("models", json::array())) PrintModel(model);
  if (chain.contains("run")) PrintRun(chain["run"], "");
}

void Lineage(const LineageOptions& options, int& exit_code) {
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto chain = runtime::TraceLineage(workspace->state(), options.start);
  if (!chain.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", chain.status().message().c_str());
    exit_code = kExitUsage;
    return;
  }
  exit_code = kExitOk;
  PrintLineageAs(*chain, options.json_output);
}

}  // namespace

void PrintLineageAs(const json& chain, bool json_output) {
  if (json_output) {
    std::printf("%s\n", chain.dump(2).c_str());
  } else {
    PrintLineage(chain);
  }
}

void AddLineageCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<LineageOptions>();
  CLI::App* lineage = app.add_subcommand(
      "lineage",
      "Trace what serves back to its code: deployment -> image digest -> model versions -> run -> "
      "snapshot -> spec commit");
  lineage
      ->add_option("start", options->start,
                   "A deployment name, IMAGE:VERSION, MODEL:VERSION (image/NAME:V or model/NAME:V when a "
                   "name is both) or a run id; a scoring answer's x-amlc-* headers name them")
      ->required();
  lineage->add_option("--workspace", options->workspace,
                      "Workspace home folder (default: $AMLC_WORKSPACE, else ./.amlc)");
  lineage->add_flag("--json", options->json_output, "The chain as JSON");
  lineage->callback([options, &exit_code] { Lineage(*options, exit_code); });
}

}  // namespace amlc::cli
