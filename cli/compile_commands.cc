#include "cli/compile_commands.h"

#include <cstdio>
#include <memory>
#include <string>

#include "cli/output.h"
#include "compiler/compile.h"
#include "compiler/ir/value.h"

namespace amlc::cli {

namespace {

struct CompileOptions {
  std::string dir = ".";
  bool json = false;
  std::string format = "json";
};

// Compiles `dir`; on a path that does not exist prints why and returns null.
std::unique_ptr<compiler::Compilation> CompileDir(const std::string& dir, int& exit_code) {
  auto tree = compiler::DiskSourceTree::Open(dir);
  if (!tree.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", tree.status().message().c_str());
    exit_code = kExitUsage;
    return nullptr;
  }
  return compiler::Compile(tree.value());
}

std::string Summary(const compiler::Compilation& c) {
  std::string counts = compiler::SummarizeCounts(c.diagnostics.error_count(),
                                                 c.diagnostics.warning_count());
  std::string out = std::to_string(c.graph.size()) + " resource" + (c.graph.size() == 1 ? "" : "s") +
                    " in " + std::to_string(c.spec_files) + " file" + (c.spec_files == 1 ? "" : "s");
  return out + (counts.empty() ? ", no problems" : ", " + counts);
}

void RunValidate(const CompileOptions& options, int& exit_code) {
  auto compilation = CompileDir(options.dir, exit_code);
  if (!compilation) return;
  bool valid = !compilation->diagnostics.has_errors();
  exit_code = valid ? kExitOk : kExitSpecErrors;
  if (options.json) {
    using compiler::ir::AppendJsonString;
    std::string out = "{\"valid\":";
    out += valid ? "true" : "false";
    out += ",\"errors\":" + std::to_string(compilation->diagnostics.error_count());
    out += ",\"warnings\":" + std::to_string(compilation->diagnostics.warning_count());
    out += ",\"files\":" + std::to_string(compilation->spec_files);
    out += ",\"diagnostics\":" + DiagnosticsJson(*compilation);
    out += ",\"resources\":[";
    for (size_t i = 0; valid && i < compilation->graph.size(); ++i) {
      const compiler::ir::Resource& r = compilation->graph.resource(i);
      compiler::LineColumn at = compilation->sources.Resolve(r.range.file, r.range.begin);
      out += i ? ",\n  {" : "\n  {";
      out += "\"id\":";
      AppendJsonString(out, r.id());
      out += ",\"file\":";
      AppendJsonString(out, compilation->sources.path(r.range.file));
      out += ",\"line\":" + std::to_string(at.line) + ",\"column\":" + std::to_string(at.column);
      out += ",\"digest\":";
      AppendJsonString(out, r.digest);
      out += "}";
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return;
  }
  std::fputs(compiler::DiagnosticsText(*compilation, UseColor()).c_str(), stderr);
  std::printf("%s: %s\n", options.dir.c_str(), Summary(*compilation).c_str());
}

void RunGraph(const CompileOptions& options, int& exit_code) {
  auto compilation = CompileDir(options.dir, exit_code);
  if (!compilation) return;
  if (compilation->diagnostics.has_errors()) {
    exit_code = kExitSpecErrors;
    if (options.json) {
      std::printf("{\"valid\":false,\"diagnostics\":%s}\n", DiagnosticsJson(*compilation).c_str());
    } else {
      std::fputs(compiler::DiagnosticsText(*compilation, UseColor()).c_str(), stderr);
      std::fprintf(stderr, "%s: %s; no graph printed\n", options.dir.c_str(),
                   Summary(*compilation).c_str());
    }
    return;
  }
  exit_code = kExitOk;
  std::string out = options.format == "dot" ? compiler::ir::GraphToDot(compilation->graph)
                                            : compiler::ir::GraphToJson(compilation->graph);
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void AddCompileCommands(CLI::App& app, int& exit_code) {
  auto validate_options = std::make_shared<CompileOptions>();
  CLI::App* validate = app.add_subcommand(
      "validate", "Check the specs in DIR: syntax, kinds, fields, types, references, cycles");
  validate->add_option("dir", validate_options->dir, "Folder (or single file) of specs")
      ->capture_default_str();
  validate->add_flag("--json", validate_options->json, "Print the result as JSON on stdout");
  validate->footer(
      "Exit status: 0 valid, 1 spec errors (all of them are printed), 2 usage errors.");
  validate->callback([validate_options, &exit_code] { RunValidate(*validate_options, exit_code); });

  auto graph_options = std::make_shared<CompileOptions>();
  CLI::App* graph = app.add_subcommand(
      "graph", "Print the typed dependency graph of the specs in DIR");
  graph->add_option("dir", graph_options->dir, "Folder (or single file) of specs")
      ->capture_default_str();
  graph->add_option("--format", graph_options->format, "json, or dot for Graphviz")
      ->check(CLI::IsMember({"json", "dot"}))
      ->capture_default_str();
  graph->add_flag("--json", graph_options->json, "Print diagnostics as JSON when the specs have errors");
  graph->footer("Render the DOT with Graphviz: amlc graph DIR --format dot | dot -Tsvg > graph.svg");
  graph->callback([graph_options, &exit_code] { RunGraph(*graph_options, exit_code); });
}

}  // namespace amlc::cli
