#include "cli/list_output.h"

#include <algorithm>
#include <cstdio>

namespace amlc::cli {

namespace {

using nlohmann::json;

std::string CellText(const json& row, const std::string& field) {
  if (!row.contains(field) || row[field].is_null()) return "";
  const json& value = row[field];
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string Table(const json& rows, const std::vector<ListColumn>& columns) {
  std::vector<size_t> widths;
  for (const ListColumn& column : columns) {
    size_t width = column.width ? column.width : column.header.size();
    if (!column.width) {
      for (const json& row : rows) width = std::max(width, CellText(row, column.field).size());
    }
    widths.push_back(width);
  }
  auto line = [&](auto cell) {
    std::string out;
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string text = cell(i);
      bool last = i + 1 == columns.size();
      out += last ? text : text + std::string(text.size() < widths[i] ? widths[i] - text.size() : 0, ' ') + "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line([&](size_t i) { return columns[i].header; });
  for (const json& row : rows) out += line([&](size_t i) { return CellText(row, columns[i].field); });
  return out;
}

std::string Tsv(const json& rows, const std::vector<ListColumn>& columns) {
  auto escaped = [](const std::string& text) {
    std::string out;
    for (char c : text) out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\\' ? "\\\\" : std::string(1, c);
    return out;
  };
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "\t" : "") + columns[i].field;
  out += "\n";
  for (const json& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) out += (i ? "\t" : "") + escaped(CellText(row, columns[i].field));
    out += "\n";
  }
  return out;
}

// JSON is YAML: each scalar written as JSON (quoted strings), nested values in flow style.
std::string Yaml(const json& rows) {
  if (rows.empty()) return "[]\n";
  std::string out;
  for (const json& row : rows) {
    bool first = true;
    for (const auto& [key, value] : row.items()) {
      out += (first ? "- " : "  ") + json(key).dump() + ": " + value.dump() + "\n";
      first = false;
    }
    if (first) out += "- {}\n";
  }
  return out;
}

}  // namespace

void AddListFormatOption(CLI::App* command, std::string& format) {
  command->add_option("-o,--output", format, "table, json, yaml or tsv")
      ->check(CLI::IsMember({"table", "json", "yaml", "tsv"}))
      ->capture_default_str();
}

std::string RenderList(const json& rows, const std::vector<ListColumn>& columns, const std::string& format) {
  if (format == "json") return rows.dump(2) + "\n";
  if (format == "yaml") return Yaml(rows);
  if (format == "tsv") return Tsv(rows, columns);
  return Table(rows, columns);
}

std::string ListFormat(const std::string& format, bool json_flag) { return json_flag ? "json" : format; }

void PrintList(const json& rows, const std::vector<ListColumn>& columns, const std::string& format) {
  std::fputs(RenderList(rows, columns, format).c_str(), stdout);
}

}  // namespace amlc::cli
