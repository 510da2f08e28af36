// Implementation notes: yaml-cpp marks give only where a node starts. The end
// of a scalar's range is found by scanning the source from that mark (to the
// closing quote, or to the end of the plain text on that line), so carets
// underline the whole value. Nesting is checked before yaml-cpp sees the
// text because its parser recurses once per level.
#include "compiler/frontend/yaml/yaml_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
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

// How much of a document a node stands for, known as soon as the node is
// complete, so an alias's cost is known before its anchor's value is copied.
struct Extent {
  uint64_t nodes = 0;
  uint64_t bytes = 0;  // scalar text and mapping keys
  int height = 0;      // levels of mappings and lists, itself included
};

// Builds ast nodes straight from yaml-cpp's parser events: one pass, no
// YAML::Node tree in between, and the place to notice the parser stalling
// (yaml-cpp 0.7 never ends on a document that starts with ','; upstream
// jbeder/yaml-cpp#1040): the next document then starts where the last did.
// It also enforces kMaxNesting and the alias bounds; past one, it stops
// building and the file yields no documents.
class AstBuilder : public YAML::EventHandler {
 public:
  AstBuilder(FileId file, std::string_view text, DiagnosticEngine& diagnostics)
      : file_(file), text_(text), diagnostics_(diagnostics) {}

  /// False when the document just parsed started where the previous one did.
  bool document_started_anew() const { return start_ != previous_start_; }
  int start() const { return start_; }
  bool has_root() const { return has_root_; }
  /// True once a limit was crossed; the file's documents are then dropped.
  bool stopped() const { return stopped_; }
  ast::Node TakeRoot() { return std::move(root_); }
  void NextDocument() {
    previous_start_ = start_;
    has_root_ = false;
    root_ = ast::Node();
    frames_.clear();
  }

  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark.pos; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (skipping_ || stopped_) return;
    ast::Node node;
    node.range = RangeAt(mark);
    Add(std::move(node), anchor, {1, 0, 0});
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (skipping_ || stopped_) return;
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      ast::Node node;
      node.range = RangeAt(mark);
      Add(std::move(node), 0, {1, 0, 0});
      return;
    }
    if (!WithinAliasBounds(mark, it->second.extent)) return;
    ast::Node node = it->second.node;
    node.range = RangeAt(mark);
    Add(std::move(node), 0, it->second.extent);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (skipping_ || stopped_) return;
    ast::Node node;
    node.kind = ast::NodeKind::kScalar;
    node.text = value;
    node.style = tag == "?" ? ast::ScalarStyle::kPlain : ast::ScalarStyle::kQuoted;
    node.range = RangeAt(mark);
    Add(std::move(node), anchor, {1, value.size(), 0});
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(ast::NodeKind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    if (!skipping_ && !stopped_ && IsPlaceholder(RangeAt(mark).begin)) {
      ReportPlaceholder(RangeAt(mark).begin);
      placeholder_mark_ = mark;
      skipping_ = 1;  // its events are skipped; it stands as a null value
      return;
    }
    Open(ast::NodeKind::kMapping, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    ast::Node node;
    YAML::anchor_t anchor = 0;
    Extent extent;  // of the children so far
    bool expecting_key = true;
    bool key_ok = false;
    std::string key;
    SourceRange key_range;
    ast::KeyIndex keys;
  };

  struct Anchored {
    ast::Node node;
    Extent extent;
  };

  void Open(ast::NodeKind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stopped_) return;
    if (skipping_) {
      ++skipping_;
      return;
    }
    if (frames_.size() >= static_cast<size_t>(kMaxNesting)) {
      Stop(RangeAt(mark), "specs nested deeper than " + std::to_string(kMaxNesting) + " levels",
           "real specs nest a dozen levels at most; flatten this value");
      return;
    }
    Frame frame;
    frame.node.kind = kind;
    frame.node.range = RangeAt(mark);
    frame.anchor = anchor;
    frames_.push_back(std::move(frame));
  }

  void Close() {
    if (stopped_) return;
    if (skipping_) {
      if (--skipping_ == 0) {
        ast::Node null_node;
        null_node.range = RangeAt(placeholder_mark_);
        Add(std::move(null_node), 0, {1, 0, 0});
      }
      return;
    }
    if (frames_.empty()) return;
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    Extent extent{frame.extent.nodes + 1, frame.extent.bytes, frame.extent.height + 1};
    Add(std::move(frame.node), frame.anchor, extent);
  }

  // An alias's copy must keep the file within kMaxAliasNodes/Bytes and the
  // tree within kMaxNesting; the first alias that would not is reported.
  bool WithinAliasBounds(const YAML::Mark& mark, const Extent& extent) {
    std::string name = "'" + AliasName(mark) + "'";
    SourceRange range = AliasRange(mark);
    std::string hint = "each alias copies its anchor's value; a file's aliases may copy " +
                       std::to_string(kMaxAliasNodes) + " values and " + std::to_string(kMaxAliasBytes >> 20) +
                       " MiB of text in all, and the spec may nest " + std::to_string(kMaxNesting) +
                       " levels deep";
    if (aliased_.nodes + extent.nodes > kMaxAliasNodes) {
      Stop(range, "alias " + name + " expands past " + std::to_string(kMaxAliasNodes) + " aliased values in this file",
           hint);
    } else if (aliased_.bytes + extent.bytes > kMaxAliasBytes) {
      Stop(range, "alias " + name + " expands past " + std::to_string(kMaxAliasBytes >> 20) +
           " MiB of aliased text in this file", hint);
    } else if (frames_.size() + extent.height > static_cast<size_t>(kMaxNesting)) {
      Stop(range, "alias " + name + " nests the spec deeper than " + std::to_string(kMaxNesting) + " levels", hint);
    } else {
      aliased_.nodes += extent.nodes;
      aliased_.bytes += extent.bytes;
      return true;
    }
    return false;
  }

  void Stop(SourceRange range, std::string message, std::string hint) {
    stopped_ = true;
    diagnostics_.Error(DiagCode::kLimit, range, std::move(message)).Hint(std::move(hint));
  }

  void Add(ast::Node node, YAML::anchor_t anchor, Extent extent) {
    if (anchor != 0) anchors_[anchor] = Anchored{node, extent};
    if (frames_.empty()) {
      root_ = std::move(node);
      has_root_ = true;
      return;
    }
    Frame& frame = frames_.back();
    frame.extent.nodes += extent.nodes;
    frame.extent.bytes += extent.bytes;
    frame.extent.height = std::max(frame.extent.height, extent.height);
    if (frame.node.kind == ast::NodeKind::kSequence) {
      frame.node.items.push_back(std::move(node));
      return;
    }
    if (frame.expecting_key) {
      frame.expecting_key = false;
      frame.key_ok = node.kind == ast::NodeKind::kScalar;
      frame.key = node.text;
      frame.key_range = node.range;
      if (!frame.key_ok) {
        diagnostics_.Error(DiagCode::kSyntax, node.range, "mapping keys must be plain text");
      }
      return;
    }
    frame.expecting_key = true;
    if (!frame.key_ok) return;
    if (const SourceRange* first = frame.keys.Repeated(frame.key, frame.key_range)) {
      diagnostics_.Error(DiagCode::kDuplicate, frame.key_range, "duplicate key '" + frame.key + "'")
          .Note(*first, "first given here");
    }
    ast::Entry entry;
    entry.key = std::move(frame.key);
    entry.key_range = frame.key_range;
    entry.value = std::move(node);
    if (entry.value.kind == ast::NodeKind::kNull) entry.value.range = entry.key_range;
    frame.node.entries.push_back(std::move(entry));
  }

  // The alias as written ("*name"), from its mark to the end of its name.
  SourceRange AliasRange(const YAML::Mark& mark) const {
    uint32_t begin = std::min<uint32_t>(std::max(mark.pos, 0), text_.size());
    size_t end = text_.find_first_of(" \t\r\n,[]{}", begin + 1);
    if (end == std::string_view::npos) end = text_.size();
    return {file_, begin, static_cast<uint32_t>(std::max<size_t>(end, begin + 1))};
  }

  std::string AliasName(const YAML::Mark& mark) const {
    SourceRange range = AliasRange(mark);
    constexpr uint32_t kShownLength = 64;
    return std::string(text_.substr(range.begin, std::min(range.end - range.begin, kShownLength)));
  }

  SourceRange RangeAt(const YAML::Mark& mark) const {
    if (mark.pos < 0) return {file_, 0, 0};
    uint32_t begin = std::min<uint32_t>(mark.pos, text_.size());
    return {file_, begin, ScalarEnd(text_, begin)};
  }

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

  FileId file_;
  std::string_view text_;
  DiagnosticEngine& diagnostics_;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  Extent aliased_;  // what aliases have copied so far in this file
  ast::Node root_;
  bool has_root_ = false;
  int start_ = -1;
  int previous_start_ = -2;
  int skipping_ = 0;
  bool stopped_ = false;
  YAML::Mark placeholder_mark_;
};

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
  std::istringstream input(text);
  AstBuilder builder(file, text, diagnostics);
  try {
    YAML::Parser parser(input);
    while (parser.HandleNextDocument(builder)) {
      if (builder.stopped()) return {};
      if (!builder.document_started_anew()) {
        uint32_t offset = std::min<uint32_t>(std::max(builder.start(), 0), text.size());
        diagnostics.Error(DiagCode::kSyntax, {file, offset, offset + 1},
                          "invalid YAML: unexpected '" + text.substr(offset, 1) + "'")
            .Hint("a document starts with a value, a '- ' item or a 'key: value' pair");
        return documents;
      }
      if (builder.has_root()) {
        ast::Document document;
        document.file = file;
        document.body = builder.TakeRoot();
        if (document.body.kind != ast::NodeKind::kNull) documents.push_back(std::move(document));
      }
      builder.NextDocument();
    }
  } catch (const YAML::Exception& error) {
    uint32_t offset = error.mark.pos >= 0 ? std::min<uint32_t>(error.mark.pos, text.size())
                                          : sources.OffsetOf(file, error.mark.line + 1,
                                                             error.mark.column + 1);
    diagnostics.Error(DiagCode::kSyntax, {file, offset, offset + 1},
                      "invalid YAML: " + CleanMessage(error.msg))
        .Hint("fix the YAML syntax; placeholders like {{NAME}} must be substituted first");
    documents.clear();
  } catch (const std::exception& error) {
    diagnostics.Error(DiagCode::kSyntax, {file, 0, 1}, std::string("invalid YAML: ") + error.what());
    documents.clear();
  }
  return documents;
}

}  // namespace amlc::compiler::yaml
