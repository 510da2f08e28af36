#include "runtime/artifacts/snapshot/stat_cache.h"

#include <charconv>

#include "runtime/artifacts/snapshot/file_io.h"

// Implementation notes
//
// The cache file is text, one file per line, fields separated by tabs:
//
//   amlc-statcache<TAB>1<TAB><folder>
//   <path><TAB><size><TAB><mtime ns><TAB><inode><TAB><device><TAB><sha256 hex>
//
// with '\\', '\t', '\n' and '\r' in paths escaped C-style. Text keeps the file
// inspectable with ordinary tools and parses at about 1 MB per 10,000 files in
// a few milliseconds; a line that does not parse ends the load, keeping what
// came before it.

namespace amlc::runtime::snapshot {
namespace {

constexpr std::string_view kMagic = "amlc-statcache\t1\t";

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char c = text[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return out;
}

// Splits off the text up to the next tab (or the end) from `line`.
std::string_view NextField(std::string_view* line) {
  size_t tab = line->find('\t');
  std::string_view field = line->substr(0, tab);
  line->remove_prefix(tab == std::string_view::npos ? line->size() : tab + 1);
  return field;
}

template <typename Int>
bool ParseInt(std::string_view text, Int* value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

StatCache StatCache::Load(std::string cache_path, std::string folder, int64_t now_ns) {
  StatCache cache(std::move(cache_path), std::move(folder), now_ns);
  StatusOr<std::string> text = ReadSmallFile(cache.cache_path_);
  if (text.ok()) cache.Parse(*text);
  return cache;
}

void StatCache::Parse(std::string_view text) {
  size_t end = text.find('\n');
  if (end == std::string_view::npos || text.substr(0, kMagic.size()) != kMagic ||
      Unescape(text.substr(kMagic.size(), end - kMagic.size())) != folder_) {
    return;  // another format or another folder: start afresh
  }
  text.remove_prefix(end + 1);
  while (!text.empty()) {
    end = text.find('\n');
    if (end == std::string_view::npos) return;  // a torn last line
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string path = Unescape(NextField(&line));
    Entry entry;
    bool ok = ParseInt(NextField(&line), &entry.size) &&
              ParseInt(NextField(&line), &entry.mtime_ns) &&
              ParseInt(NextField(&line), &entry.inode) && ParseInt(NextField(&line), &entry.device);
    entry.digest = std::string(NextField(&line));
    if (!ok || entry.digest.size() != 64 || !line.empty()) return;
    loaded_.emplace(std::move(path), std::move(entry));
  }
}

bool StatCache::IsRacy(const WalkedFile& file) const {
  return file.mtime_ns > now_ns_ - kRacyWindowNs;
}

StatCache::Entry StatCache::EntryOf(const WalkedFile& file, const std::string& digest) {
  return Entry{file.size, file.mtime_ns, file.inode, file.device, digest};
}

const std::string* StatCache::Lookup(const WalkedFile& file) const {
  if (IsRacy(file)) return nullptr;
  auto found = loaded_.find(file.path);
  if (found == loaded_.end()) return nullptr;
  const Entry& entry = found->second;
  bool same = entry.size == file.size && entry.mtime_ns == file.mtime_ns &&
              entry.inode == file.inode && entry.device == file.device;
  return same ? &entry.digest : nullptr;
}

void StatCache::Record(const WalkedFile& file, const std::string& digest) {
  if (IsRacy(file)) return;
  Entry entry = EntryOf(file, digest);
  if (!changed_) {
    auto found = loaded_.find(file.path);
    changed_ = found == loaded_.end() || !(found->second == entry);
  }
  recorded_.emplace_back(file.path, std::move(entry));
}

std::string StatCache::Serialize() const {
  std::string out;
  out.reserve(64 + recorded_.size() * 128);
  out.append(kMagic).append(Escape(folder_)).append("\n");
  for (const auto& [path, entry] : recorded_) {
    out.append(Escape(path)).append("\t").append(std::to_string(entry.size)).append("\t");
    out.append(std::to_string(entry.mtime_ns)).append("\t").append(std::to_string(entry.inode));
    out.append("\t").append(std::to_string(entry.device)).append("\t").append(entry.digest);
    out.append("\n");
  }
  return out;
}

Status StatCache::SaveIfChanged() {
  // Every recorded entry matched a loaded one, so equal counts mean equal sets.
  if (!changed_ && recorded_.size() == loaded_.size()) return Status::Ok();
  std::string text = Serialize();
  return WriteFileAtomically(cache_path_, 0644,
                             [&](int fd) { return WriteAll(fd, text, cache_path_); });
}

}  // namespace amlc::runtime::snapshot
