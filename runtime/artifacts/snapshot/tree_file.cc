#include "runtime/artifacts/snapshot/tree_file.h"

#include <nlohmann/json.hpp>

#include "base/digest.h"

namespace amlc::runtime::snapshot {
namespace {

constexpr std::string_view kFormat = "amlc-snapshot-tree/1";

void AppendListingPath(std::string_view path, std::string* out) {
  for (char c : path) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

Status Damaged(const std::string& source, const std::string& what) {
  return Status(StatusCode::kInternal, "snapshot tree '" + source + "' is damaged: " + what);
}

// Reads one entry of "files"; false when a field is missing or mistyped.
bool ParseFile(const nlohmann::json& entry, SnapshotFile* file) {
  if (!entry.is_object()) return false;
  auto path = entry.find("path");
  auto digest = entry.find("digest");
  auto size = entry.find("size");
  auto executable = entry.find("executable");
  if (path == entry.end() || !path->is_string() || digest == entry.end() || !digest->is_string() ||
      size == entry.end() || !size->is_number_unsigned() || executable == entry.end() ||
      !executable->is_boolean()) {
    return false;
  }
  file->path = path->get<std::string>();
  file->digest = digest->get<std::string>();
  file->size = size->get<uint64_t>();
  file->executable = executable->get<bool>();
  return IsHexDigest(file->digest);
}

}  // namespace

std::string TreeDigest(const std::vector<SnapshotFile>& files) {
  std::string listing;
  listing.reserve(files.size() * 120);
  for (const SnapshotFile& file : files) {
    listing += file.executable ? "755 " : "644 ";
    listing += file.digest;
    listing += ' ';
    AppendListingPath(file.path, &listing);
    listing += '\n';
  }
  return Sha256Hex(listing);
}

bool IsHexDigest(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) {
    return false;
  }
  for (;;) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

std::string TreeJson(const Snapshot& snapshot) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const SnapshotFile& file : snapshot.files) {
    files.push_back({{"path", file.path},
                     {"digest", file.digest},
                     {"size", file.size},
                     {"executable", file.executable}});
  }
  nlohmann::ordered_json tree = {{"format", kFormat},
                                 {"tree_digest", snapshot.tree_digest},
                                 {"total_bytes", snapshot.total_bytes},
                                 {"files", std::move(files)}};
  // Paths are UTF-8 (the walk refuses others); `replace` only keeps dump()
  // from throwing should that ever change.
  return tree.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

StatusOr<Snapshot> ParseTreeJson(std::string_view text, const std::string& tree_digest,
                                 const std::string& source) {
  nlohmann::json tree = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (tree.is_discarded() || !tree.is_object()) return Damaged(source, "not JSON");
  auto format = tree.find("format");
  auto files = tree.find("files");
  if (format == tree.end() || !format->is_string() || format->get<std::string>() != kFormat ||
      files == tree.end() || !files->is_array()) {
    return Damaged(source, "not a " + std::string(kFormat) + " file");
  }
  Snapshot snapshot;
  snapshot.tree_digest = tree_digest;
  for (const nlohmann::json& entry : *files) {
    SnapshotFile file;
    if (!ParseFile(entry, &file)) return Damaged(source, "a malformed file entry");
    if (!IsSafeRelativePath(file.path)) return Damaged(source, "unsafe path '" + file.path + "'");
    if (!snapshot.files.empty() && !(snapshot.files.back().path < file.path)) {
      return Damaged(source, "files out of order at '" + file.path + "'");
    }
    snapshot.total_bytes += file.size;
    snapshot.files.push_back(std::move(file));
  }
  if (TreeDigest(snapshot.files) != tree_digest) {
    return Damaged(source, "its listing no longer hashes to its name");
  }
  return snapshot;
}

}  // namespace amlc::runtime::snapshot
