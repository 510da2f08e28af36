// Implementation notes: yaml-cpp marks give only where a node starts. The end
// of a scalar's range is found by scanning the source from that mark (to the
// closing quote, or to the end of the plain text on that line), so carets
// underline the whole value. Nesting is checked before yaml-cpp sees the
// text because its parser recurses once per level.
#include "compiler/frontend/yaml/yaml_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

namespace amlc::compiler::yaml {

namespace {

uint32_t ScalarEnd(std::string_view text, uint32_t begin) {
  if (begin >= text.size()) return begin;
  char open = text[begin];
  if (open == '"' || open == '\'') {
    for (size_t i = begin + 1; i < text.size(); ++i) {
      if (open == '"' && text[i] == '\\') {
        ++i;
        continue;
      }
      if (text[i] == open) {
        if (open == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;
          continue;
        }
        return static_cast<uint32_t>(i + 1);
      }
    }
    return static_cast<uint32_t>(text.size());
  }
  size_t end = begin;
  while (end < text.size() && text[end] != '\n' && text[end] != '\r') {
    if (text[end] == '#' && end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) break;
    if (text[end] == ':' && (end + 1 == text.size() || text[end + 1] == ' ' ||
                             text[end + 1] == '\n')) {
      break;
    }
    ++end;
  }
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  return static_cast<uint32_t>(std::max<size_t>(end, begin + 1));
}

// The deepest flow nesting ([ and {) or run of "- " block entries on a line.
bool NestingWithinLimit(std::string_view text, uint32_t& where) {
  int depth = 0;
  int dashes = 0;
  bool line_start = true;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      line_start = true;
      dashes = 0;
      continue;
    }
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (line_start && c == '-' && i + 1 < text.size() && (text[i + 1] == ' ')) {
      if (++dashes > kMaxNesting) {
        where = static_cast<uint32_t>(i);
        return false;
      }
      continue;
    }
    if (c != ' ' && c != '-') line_start = false;
    if (c == '"' || c == '\'') quote = c;
    if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        where = static_cast<uint32_t>(i);
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

class Converter {
 public:
  Converter(const SourceManager& sources, FileId file, DiagnosticEngine& diagnostics)
      : sources_(sources), file_(file), text_(sources.contents(file)), diagnostics_(diagnostics) {}

  ast::Node Convert(const YAML::Node& node, int depth) {
    ast::Node out;
    out.range = RangeAt(node.Mark());
    if (depth > kMaxNesting) {
      diagnostics_.Error(DiagCode::kLimit, out.range,
                         "specs nested deeper than " + std::to_string(kMaxNesting) + " levels");
      return out;
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = ast::NodeKind::kNull;
        break;
      case YAML::NodeType::Scalar:
        out.kind = ast::NodeKind::kScalar;
        out.text = node.Scalar();
        out.style = node.Tag() == "?" ? ast::ScalarStyle::kPlain : ast::ScalarStyle::kQuoted;
        break;
      case YAML::NodeType::Sequence:
        out.kind = ast::NodeKind::kSequence;
        for (const YAML::Node& item : node) out.items.push_back(Convert(item, depth + 1));
        break;
      case YAML::NodeType::Map:
        if (IsPlaceholder(out.range.begin)) {
          ReportPlaceholder(out.range.begin);
          break;  // stays null
        }
        out.kind = ast::NodeKind::kMapping;
        ConvertMapping(node, depth, out);
        break;
    }
    return out;
  }

  SourceRange RangeAt(const YAML::Mark& mark) const {
    if (mark.pos < 0) return {file_, 0, 0};
    uint32_t begin = std::min<uint32_t>(mark.pos, text_.size());
    return {file_, begin, ScalarEnd(text_, begin)};
  }

 private:
  // Azure ML's example specs carry template placeholders such as
  // {{ENDPOINT_NAME}} or {insert random GUID} that people substitute; YAML
  // reads one as a flow mapping without a single "key: value". Say what it
  // is instead of reporting a type error.
  size_t PlaceholderEnd(uint32_t offset) const {
    if (text_.substr(offset, 1) != "{") return std::string_view::npos;
    bool doubled = text_.substr(offset, 2) == "{{";
    size_t end = text_.find(doubled ? "}}" : "}", offset);
    size_t line_end = text_.find('\n', offset);
    if (end == std::string_view::npos || end > line_end) return std::string_view::npos;
    std::string_view inner = text_.substr(offset + (doubled ? 2 : 1), end - offset - (doubled ? 2 : 1));
    if (inner.find_first_of(":{},") != std::string_view::npos) return std::string_view::npos;
    return end + (doubled ? 2 : 1);
  }

  bool IsPlaceholder(uint32_t offset) const {
    return PlaceholderEnd(offset) != std::string_view::npos;
  }

  void ReportPlaceholder(uint32_t offset) {
    uint32_t end = static_cast<uint32_t>(PlaceholderEnd(offset));
    diagnostics_
        .Error(DiagCode::kSyntax, {file_, offset, end},
               "unsubstituted placeholder '" + std::string(text_.substr(offset, end - offset)) + "'")
        .Hint("substitute the placeholder before compiling (the Azure ML examples use sed)");
  }

  void ConvertMapping(const YAML::Node& node, int depth, ast::Node& out) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      ast::Entry entry;
      entry.key_range = RangeAt(it->first.Mark());
      if (!it->first.IsScalar()) {
        diagnostics_.Error(DiagCode::kSyntax, entry.key_range, "mapping keys must be plain text");
        continue;
      }
      entry.key = it->first.Scalar();
      for (const ast::Entry& earlier : out.entries) {
        if (earlier.key == entry.key) {
          diagnostics_.Error(DiagCode::kDuplicate, entry.key_range, "duplicate key '" + entry.key + "'")
              .Note(earlier.key_range, "first given here");
        }
      }
      entry.value = Convert(it->second, depth + 1);
      if (entry.value.kind == ast::NodeKind::kNull) entry.value.range = entry.key_range;
      out.entries.push_back(std::move(entry));
    }
  }

  const SourceManager& sources_;
  FileId file_;
  std::string_view text_;
  DiagnosticEngine& diagnostics_;
};

// yaml-cpp 0.7's LoadAll loops forever, adding a null document per turn until
// memory runs out, when a document starts with a token no node can start with
// (a ',' in block context: jbeder/yaml-cpp#1040, fixed upstream after 0.8.0
// by #1319). Walking the documents with the event parser first finds such a
// place: the parser then starts the next document where the last one started.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  YAML::Mark start;
};

// The offset where yaml-cpp's parser stops making progress, or -1. Throws
// what LoadAll would throw for the same text.
int StuckAt(const std::string& text) {
  std::istringstream input(text);
  YAML::Parser parser(input);
  DocumentStarts documents;
  int previous = -1;
  while (parser.HandleNextDocument(documents)) {
    if (documents.start.pos == previous) return previous;
    previous = documents.start.pos;
  }
  return -1;
}

std::string CleanMessage(std::string message) {
  // yaml-cpp prefixes "yaml-cpp: error at line L, column C: "; the location is ours to print.
  size_t colon = message.find(": ", message.find("column"));
  if (message.rfind("yaml-cpp:", 0) == 0 && colon != std::string::npos) message.erase(0, colon + 2);
  return message;
}

}  // namespace

std::vector<ast::Document> LoadYaml(const SourceManager& sources, FileId file,
                                    DiagnosticEngine& diagnostics) {
  std::vector<ast::Document> documents;
  const std::string& text = sources.contents(file);
  uint32_t too_deep = 0;
  if (!NestingWithinLimit(text, too_deep)) {
    diagnostics.Error(DiagCode::kLimit, {file, too_deep, too_deep + 1},
                      "specs nested deeper than " + std::to_string(kMaxNesting) + " levels");
    return documents;
  }
  std::vector<YAML::Node> nodes;
  try {
    // Only a ',' can make the parser stall; texts without one skip the extra pass.
    if (int stuck = text.find(',') == std::string::npos ? -1 : StuckAt(text); stuck >= 0) {
      uint32_t offset = std::min<uint32_t>(stuck, text.size());
      diagnostics.Error(DiagCode::kSyntax, {file, offset, offset + 1},
                        "invalid YAML: unexpected '" + text.substr(offset, 1) + "'")
          .Hint("a document starts with a value, a '- ' item or a 'key: value' pair");
      return documents;
    }
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& error) {
    uint32_t offset = error.mark.pos >= 0 ? std::min<uint32_t>(error.mark.pos, text.size())
                                          : sources.OffsetOf(file, error.mark.line + 1,
                                                             error.mark.column + 1);
    diagnostics.Error(DiagCode::kSyntax, {file, offset, offset + 1},
                      "invalid YAML: " + CleanMessage(error.msg))
        .Hint("fix the YAML syntax; placeholders like {{NAME}} must be substituted first");
    return documents;
  } catch (const std::exception& error) {
    diagnostics.Error(DiagCode::kSyntax, {file, 0, 1}, std::string("invalid YAML: ") + error.what());
    return documents;
  }
  Converter converter(sources, file, diagnostics);
  for (const YAML::Node& node : nodes) {
    if (node.IsNull()) continue;
    ast::Document document;
    document.file = file;
    try {
      document.body = converter.Convert(node, 0);
    } catch (const YAML::Exception& error) {
      diagnostics.Error(DiagCode::kSyntax, converter.RangeAt(error.mark),
                        "invalid YAML: " + CleanMessage(error.msg));
      continue;
    }
    documents.push_back(std::move(document));
  }
  return documents;
}

}  // namespace amlc::compiler::yaml
