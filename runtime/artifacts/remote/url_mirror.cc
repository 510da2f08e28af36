#include "runtime/artifacts/remote/url_mirror.h"

#include <cstdlib>
#include <sstream>

namespace amlc::runtime {

namespace {

constexpr const char* kMirrorVariable = "AMLC_URL_MIRROR";

bool StartsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

Status BadEntry(const std::string& entry, const std::string& why) {
  return Status(StatusCode::kInvalidArgument,
                std::string(kMirrorVariable) + ": entry '" + entry + "' " + why +
                    "; write FROM=TO pairs separated by spaces or ';', e.g. "
                    "https://data.example.com/=http://127.0.0.1:8000/");
}

}  // namespace

StatusOr<UrlMirror> UrlMirror::Parse(const std::string& text) {
  std::string spaced = text;
  for (char& c : spaced) {
    if (c == ';') c = ' ';
  }
  UrlMirror mirror;
  std::istringstream entries(spaced);
  std::string entry;
  while (entries >> entry) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos) return BadEntry(entry, "has no '='");
    std::string from = entry.substr(0, equals), to = entry.substr(equals + 1);
    if (from.empty() || to.empty()) return BadEntry(entry, "has an empty side");
    if (!StartsWith(to, "http://") && !StartsWith(to, "https://")) {
      return BadEntry(entry, "maps to a URL that is not http:// or https://");
    }
    mirror.prefixes_.emplace_back(std::move(from), std::move(to));
  }
  return mirror;
}

StatusOr<UrlMirror> UrlMirror::FromEnvironment() {
  const char* text = std::getenv(kMirrorVariable);
  return Parse(text == nullptr ? "" : text);
}

std::string UrlMirror::Rewrite(const std::string& url) const {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& prefix : prefixes_) {
    if (StartsWith(url, prefix.first) && (best == nullptr || prefix.first.size() > best->first.size())) {
      best = &prefix;
    }
  }
  return best == nullptr ? url : best->second + url.substr(best->first.size());
}

}  // namespace amlc::runtime
