#include "base/file_tail.h"

#include <fstream>
#include <iterator>

namespace amlc {

std::string LastLines(const std::string& path, int count) {
  constexpr std::streamoff kWindow = 4096;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  std::streamoff size = in.tellg();
  in.seekg(size > kWindow ? size - kWindow : 0);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  size_t pos = text.size();
  for (int lines = 0; lines < count; ++lines) {
    size_t newline = pos == 0 ? std::string::npos : text.rfind('\n', pos - 1);
    if (newline == std::string::npos) return text;
    pos = newline;
  }
  return text.substr(pos + 1);
}

}  // namespace amlc
