#ifndef AMLC_CLI_LIST_OUTPUT_H_
#define AMLC_CLI_LIST_OUTPUT_H_

// `-o table|json|yaml|tsv` for commands that print a list: one array of
// objects, rendered as the user asks.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace amlc::cli {

struct ListColumn {
  std::string header;  // "ID"
  std::string field;   // "id"
  size_t width = 0;    // table column width (0: as wide as its widest value)
};

/// Adds `-o,--output FORMAT` (table, json, yaml, tsv; default table).
void AddListFormatOption(CLI::App* command, std::string& format);

/// The rows as a table (the columns, padded), JSON (the whole objects, an
/// array), YAML (the whole objects, a sequence of mappings; strings JSON-quoted)
/// or TSV (the columns, a header line, tabs and newlines in values escaped).
std::string RenderList(const nlohmann::json& rows, const std::vector<ListColumn>& columns,
                       const std::string& format);

/// The format to print in: `--json` is `-o json`, else what `-o` says.
std::string ListFormat(const std::string& format, bool json_flag);

/// Writes RenderList(rows, columns, format) to stdout.
void PrintList(const nlohmann::json& rows, const std::vector<ListColumn>& columns, const std::string& format);

}  // namespace amlc::cli

#endif  // AMLC_CLI_LIST_OUTPUT_H_
