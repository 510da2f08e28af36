// Implementation notes: the parse runs in two steps. The token stream is
// filled first so nesting depth can be checked before the recursive-descent
// parser sees it (deep input would otherwise exhaust the stack). The typed
// parse tree is then turned into ast nodes by one Transform function per
// rule; no ANTLR visitor and no std::any.
#include "compiler/frontend/dsl/dsl_parser.h"

#include <antlr4-runtime.h>

#include "AmlLexer.h"
#include "AmlParser.h"

namespace amlc::compiler::dsl {

namespace {

using amlc_grammar::AmlLexer;
using amlc_grammar::AmlParser;

constexpr int kMaxNesting = 64;

// ANTLR indexes code points; diagnostics index bytes. For ASCII files the two
// agree and no table is built.
class OffsetMap {
 public:
  OffsetMap(FileId file, std::string_view text) : file_(file) {
    bool ascii = true;
    for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) return;
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        byte_of_.push_back(static_cast<uint32_t>(i));
      }
    }
    byte_of_.push_back(static_cast<uint32_t>(text.size()));
  }

  uint32_t Byte(size_t index) const {
    if (byte_of_.empty()) return static_cast<uint32_t>(index);
    return byte_of_[std::min(index, byte_of_.size() - 1)];
  }

  SourceRange Token(const antlr4::Token* token) const {
    if (!token || token->getStartIndex() == INVALID_INDEX) return {file_, 0, 0};
    uint32_t begin = Byte(token->getStartIndex());
    uint32_t end = token->getStopIndex() == INVALID_INDEX ? begin
                                                          : Byte(token->getStopIndex() + 1);
    if (token->getType() == antlr4::Token::EOF) end = begin;
    return {file_, begin, std::max(end, begin + 1)};
  }

  SourceRange Context(antlr4::ParserRuleContext* context) const {
    SourceRange start = Token(context->getStart());
    SourceRange stop = Token(context->getStop());
    if (stop.end < start.begin) return start;
    return {file_, start.begin, stop.end};
  }

  FileId file() const { return file_; }

 private:
  FileId file_;
  std::vector<uint32_t> byte_of_;
};

// Collects syntax errors as diagnostics instead of printing them.
class ErrorCollector : public antlr4::BaseErrorListener {
 public:
  ErrorCollector(const OffsetMap& offsets, const SourceManager& sources,
                 DiagnosticEngine& diagnostics)
      : offsets_(offsets), sources_(sources), diagnostics_(diagnostics) {}

  void syntaxError(antlr4::Recognizer*, antlr4::Token* offending, size_t line, size_t column,
                   const std::string& message, std::exception_ptr) override {
    FileId file = offsets_.file();
    SourceRange range = offending ? offsets_.Token(offending)
                                  : SourceRange{file, sources_.OffsetOf(file, line, column + 1),
                                                sources_.OffsetOf(file, line, column + 2)};
    if (range.begin == last_offset_) return;  // one message per place is enough
    last_offset_ = range.begin;
    diagnostics_.Error(DiagCode::kSyntax, range, "syntax error: " + message)
        .Hint("a block is: kind \"name\" { field = value ... }");
  }

 private:
  const OffsetMap& offsets_;
  const SourceManager& sources_;
  DiagnosticEngine& diagnostics_;
  uint32_t last_offset_ = UINT32_MAX;
};

std::string UnescapeString(const std::string& quoted) {
  std::string out;
  out.reserve(quoted.size());
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '\\' && i + 2 < quoted.size()) {
      char next = quoted[++i];
      switch (next) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        default: out += next; break;
      }
    } else {
      out += c;
    }
  }
  return out;
}

class Transformer {
 public:
  Transformer(const OffsetMap& offsets, DiagnosticEngine& diagnostics)
      : offsets_(offsets), file_(offsets.file()), diagnostics_(diagnostics) {}

  ast::Document TransformBlock(AmlParser::BlockContext* block) {
    ast::Document document;
    document.file = file_;
    document.dsl_kind = block->kind->getText();
    document.kind_range = offsets_.Token(block->kind);
    document.body = TransformBody(block->body());
    document.body.range = document.kind_range;
    if (block->label) {
      ast::Entry name;
      name.key = "name";
      name.key_range = offsets_.Token(block->label);
      name.value = Scalar(UnescapeString(block->label->getText()), ast::ScalarStyle::kQuoted,
                          name.key_range);
      document.body.entries.insert(document.body.entries.begin(), std::move(name));
    }
    return document;
  }

 private:
  ast::Node TransformBody(AmlParser::BodyContext* body) {
    ast::Node node;
    node.kind = ast::NodeKind::kMapping;
    node.range = offsets_.Context(body);
    ast::KeyIndex keys;
    for (AmlParser::MemberContext* member : body->member()) {
      ast::Entry entry;
      AmlParser::KeyContext* key = member->key();
      const std::string& key_text = key->getStart()->getText();
      entry.key = key->STRING() ? UnescapeString(key_text) : key_text;
      entry.key_range = offsets_.Context(key);
      if (const SourceRange* first = keys.Repeated(entry.key, entry.key_range)) {
        diagnostics_.Error(DiagCode::kDuplicate, entry.key_range, "duplicate key '" + entry.key + "'")
            .Note(*first, "first given here");
      }
      if (member->value()) {
        entry.value = TransformValue(member->value());
      } else if (member->body()) {
        entry.value = TransformBody(member->body());
      }
      node.entries.push_back(std::move(entry));
    }
    return node;
  }

  ast::Node TransformValue(AmlParser::ValueContext* value) {
    SourceRange range = offsets_.Context(value);
    if (auto* text = dynamic_cast<AmlParser::StringValueContext*>(value)) {
      return Scalar(NormalizeInterpolation(UnescapeString(text->getStart()->getText())),
                    ast::ScalarStyle::kQuoted, range);
    }
    if (auto* text = dynamic_cast<AmlParser::TripleStringValueContext*>(value)) {
      std::string raw = text->getStart()->getText();
      return Scalar(NormalizeInterpolation(raw.substr(3, raw.size() - 6)),
                    ast::ScalarStyle::kQuoted, range);
    }
    if (dynamic_cast<AmlParser::NumberValueContext*>(value) ||
        dynamic_cast<AmlParser::BoolValueContext*>(value) ||
        dynamic_cast<AmlParser::WordValueContext*>(value)) {
      return Scalar(value->getStart()->getText(), ast::ScalarStyle::kPlain, range);
    }
    if (auto* reference = dynamic_cast<AmlParser::ReferenceValueContext*>(value)) {
      return TransformReference(reference->reference());
    }
    if (auto* list = dynamic_cast<AmlParser::ListValueContext*>(value)) {
      ast::Node node;
      node.kind = ast::NodeKind::kSequence;
      node.range = range;
      for (AmlParser::ValueContext* item : list->value()) node.items.push_back(TransformValue(item));
      return node;
    }
    if (auto* mapping = dynamic_cast<AmlParser::MappingValueContext*>(value)) {
      return TransformBody(mapping->body());
    }
    ast::Node null_node;
    null_node.range = range;
    return null_node;  // NullValue, or a subtree ANTLR could not build after an error
  }

  ast::Node TransformReference(AmlParser::ReferenceContext* reference) {
    ast::Node node;
    node.kind = ast::NodeKind::kReference;
    node.range = offsets_.Context(reference);
    node.text = reference->IDENT()->getText();
    for (AmlParser::RefPartContext* part : reference->refPart()) {
      node.text += '.';
      const std::string& part_text = part->getStart()->getText();
      node.text += part->STRING() ? UnescapeString(part_text) : part_text;
    }
    return node;
  }

  static ast::Node Scalar(std::string text, ast::ScalarStyle style, SourceRange range) {
    ast::Node node;
    node.kind = ast::NodeKind::kScalar;
    node.style = style;
    node.text = std::move(text);
    node.range = range;
    return node;
  }

  const OffsetMap& offsets_;
  FileId file_;
  DiagnosticEngine& diagnostics_;
};

// Returns the offset of the first bracket past kMaxNesting, or -1.
int64_t TooDeepAt(antlr4::CommonTokenStream& tokens) {
  int depth = 0;
  // The bracket tokens are the grammar's implicit literal tokens: '{' '}' '[' ']'.
  for (antlr4::Token* token : tokens.getTokens()) {
    size_t type = token->getType();
    if (type == AmlLexer::T__0 || type == AmlLexer::T__4) {
      if (++depth > kMaxNesting) return static_cast<int64_t>(token->getStartIndex());
    } else if ((type == AmlLexer::T__1 || type == AmlLexer::T__5) && depth > 0) {
      --depth;
    }
  }
  return -1;
}

}  // namespace

std::string NormalizeInterpolation(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{' &&
        !(i + 2 < text.size() && text[i + 2] == '{')) {
      size_t close = text.find('}', i + 2);
      if (close != std::string_view::npos) {
        out += "${{";
        out += text.substr(i + 2, close - i - 2);
        out += "}}";
        i = close;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::vector<ast::Document> ParseDsl(const SourceManager& sources, FileId file,
                                    DiagnosticEngine& diagnostics) {
  std::vector<ast::Document> documents;
  const std::string& text = sources.contents(file);
  OffsetMap offsets(file, text);
  ErrorCollector errors(offsets, sources, diagnostics);
  int errors_before = diagnostics.error_count();

  antlr4::ANTLRInputStream input;
  try {
    input.load(text);
  } catch (const std::exception&) {
    diagnostics.Error(DiagCode::kSyntax, {file, 0, 1}, "file is not valid UTF-8 text");
    return documents;
  }
  AmlLexer lexer(&input);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&errors);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  if (int64_t offset = TooDeepAt(tokens); offset >= 0) {
    uint32_t at = offsets.Byte(static_cast<size_t>(offset));
    diagnostics.Error(DiagCode::kLimit, {file, at, at + 1},
                      "specs nested deeper than " + std::to_string(kMaxNesting) + " levels");
    return documents;
  }

  AmlParser parser(&tokens);
  parser.removeErrorListeners();
  parser.addErrorListener(&errors);
  AmlParser::FileContext* tree = nullptr;
  try {
    tree = parser.file();
  } catch (const std::exception& error) {
    diagnostics.Error(DiagCode::kSyntax, {file, 0, 1}, std::string("syntax error: ") + error.what());
    return documents;
  }
  if (diagnostics.error_count() > errors_before) return documents;

  Transformer transformer(offsets, diagnostics);
  for (AmlParser::BlockContext* block : tree->block()) {
    documents.push_back(transformer.TransformBlock(block));
  }
  return documents;
}

}  // namespace amlc::compiler::dsl
