#include <catch2/catch.hpp>

#include "compiler/support/diagnostics.h"
#include "compiler/support/source_manager.h"

using namespace amlc::compiler;

TEST_CASE("source manager maps offsets to lines and columns", "[support]") {
  SourceManager sources;
  FileId file = sources.AddBuffer("a.yaml", "name: x\r\ntype: command\nlast");
  CHECK(sources.Resolve(file, 0).line == 1);
  CHECK(sources.Resolve(file, 6).column == 7);
  LineColumn type = sources.Resolve(file, 9);
  CHECK(type.line == 2);
  CHECK(type.column == 1);
  CHECK(sources.LineText(file, 1) == "name: x");  // the \r is not part of the line
  CHECK(sources.LineText(file, 3) == "last");
  CHECK(sources.OffsetOf(file, 2, 7) == 15);
  CHECK(sources.Resolve(file, 9999).line == 3);  // clamps
}

TEST_CASE("a diagnostic underlines its whole range with a caret line", "[support]") {
  SourceManager sources;
  FileId file = sources.AddBuffer("job.yaml", "compute: azureml:gpu\n");
  Diagnostic d;
  d.range = {file, 9, 20};
  d.message = "compute 'gpu' is not defined";
  d.hint = "declare it";
  std::string text = RenderDiagnostic(sources, d, {false});
  CHECK(text ==
        "job.yaml:1:10: error: compute 'gpu' is not defined\n"
        "  compute: azureml:gpu\n"
        "           ^~~~~~~~~~~\n"
        "  hint: declare it\n");
}

TEST_CASE("carets count characters not bytes after UTF-8 text", "[support]") {
  SourceManager sources;
  FileId file = sources.AddBuffer("x.aml", "d = \"héllo\" bad\n");
  Diagnostic d;
  d.range = {file, 13, 16};  // "bad", after a two-byte é
  std::string text = RenderDiagnostic(sources, d, {false});
  CHECK(text.find("\n              ^~~\n") != std::string::npos);  // 2 + 12 characters
}

TEST_CASE("long lines are cut around the range without splitting characters", "[support]") {
  SourceManager sources;
  std::string line = std::string(300, 'a') + "é" + std::string(10, 'b') + "XYZ";
  FileId file = sources.AddBuffer("long.yaml", line + "\n");
  Diagnostic d;
  d.range = {file, static_cast<uint32_t>(line.size() - 3), static_cast<uint32_t>(line.size())};
  std::string text = RenderDiagnostic(sources, d, {false});
  CHECK(text.find("...") != std::string::npos);
  CHECK(text.find("^~~") != std::string::npos);
  CHECK(text.size() < 500);
}
