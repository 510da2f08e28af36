# Writes OUTPUT: a C++ file defining EmbeddedSpecFiles() with the text of
# every INPUT_DIR/*.json, as raw string literals.
file(GLOB files RELATIVE ${INPUT_DIR} ${INPUT_DIR}/*.json)
list(SORT files)
set(body "")
foreach(name IN LISTS files)
  file(READ ${INPUT_DIR}/${name} text)
  string(APPEND body "      {\"${name}\", R\"amlcspec(${text})amlcspec\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from specs/*.json by specs/embed.cmake; do not edit.
#include <string>
#include <utility>
#include <vector>

namespace amlc::compiler::sema {
const std::vector<std::pair<std::string, std::string>>& EmbeddedSpecFiles() {
  static const std::vector<std::pair<std::string, std::string>> files = {
${body}  };
  return files;
}
}  // namespace amlc::compiler::sema
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
